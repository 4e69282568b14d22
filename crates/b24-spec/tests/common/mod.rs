//! Helpers shared by the integration tests.

use b24_spec::{Location, SpecFile};

/// The model without where anything is written.
pub fn unlocated(file: SpecFile) -> SpecFile {
    let nowhere = Location::default;
    match file {
        SpecFile::Method(mut s) => {
            s.location = nowhere();
            s.params.iter_mut().for_each(|p| p.location = nowhere());
            s.one_of.iter_mut().for_each(|g| g.location = nowhere());
            for o in &mut s.objects {
                o.location = nowhere();
                o.fields.iter_mut().for_each(|f| f.location = nowhere());
            }
            s.enums.iter_mut().for_each(|e| e.location = nowhere());
            s.examples.iter_mut().for_each(|x| x.location = nowhere());
            SpecFile::Method(s)
        }
        SpecFile::Event(mut e) => {
            e.location = nowhere();
            for o in &mut e.objects {
                o.location = nowhere();
                o.fields.iter_mut().for_each(|f| f.location = nowhere());
            }
            e.enums.iter_mut().for_each(|x| x.location = nowhere());
            e.examples.iter_mut().for_each(|x| x.location = nowhere());
            SpecFile::Event(e)
        }
    }
}
