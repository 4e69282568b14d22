//! Checks that need a whole file: every type name resolves, is defined once, is used and is
//! not a name the generated code takes; no object contains itself; one-of groups are sound;
//! the Rust names of the request do not clash. Each error is at the key it is about, whose
//! place the parser records in [`Sites`].

use std::collections::{HashMap, HashSet};

use crate::model::*;
use crate::names::{
    field_name, is_reserved, one_of_type_name, reserved, rust_ident, variant_name, Reserved,
};
use crate::types::TypeExpr;
use crate::SpecError;

type Res<T> = Result<T, SpecError>;

/// A dotted key and where it is written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Site {
    pub key: String,
    pub location: Location,
}

impl Site {
    fn error(&self, message: String) -> SpecError {
        SpecError {
            location: self.location.clone(),
            key: self.key.clone(),
            message,
        }
    }
}

/// Where a parameter's name and type are written.
pub(crate) struct ParamSite {
    pub name: Site,
    pub ty: Site,
}

/// Where a one-of group's name, its list of parameters and each member are written.
pub(crate) struct OneOfSite {
    pub name: Site,
    pub params: Site,
    pub members: Vec<Site>,
}

/// Where the parts of a file that cross-checks report on are written, parallel to the model.
#[derive(Default)]
pub(crate) struct Sites {
    /// `result.type` or `data.type`.
    pub result: Option<Site>,
    /// Per parameter.
    pub params: Vec<ParamSite>,
    /// Per one-of group.
    pub one_of: Vec<OneOfSite>,
    /// Per object: its name (`objects.Name`).
    pub objects: Vec<Site>,
    /// Per object, per field: its `type`.
    pub field_types: Vec<Vec<Site>>,
    /// Per enum: its name (`enums.Name`), or the `type` of the key that defines it inline.
    pub enums: Vec<Site>,
    /// Per enum, per value.
    pub enum_values: Vec<Vec<Site>>,
}

fn site<'s>(sites: &'s [Site], i: usize) -> std::borrow::Cow<'s, Site> {
    sites.get(i).map_or_else(
        || std::borrow::Cow::Owned(Site::default()),
        std::borrow::Cow::Borrowed,
    )
}

/// Cross-checks of a method file.
pub(crate) fn method(spec: &Spec, sites: &Sites) -> Res<()> {
    let mut roots: Vec<(&TypeExpr, Site)> = spec
        .params
        .iter()
        .zip(&sites.params)
        .map(|(p, s)| (&p.ty, s.ty.clone()))
        .collect();
    roots.push((&spec.result.ty, sites.result.clone().unwrap_or_default()));
    let mut taken: Vec<(String, String)> = reserved(Reserved::MethodType)
        .map(|n| {
            (
                n.to_string(),
                "is reserved for the generated types".to_string(),
            )
        })
        .collect();
    for (g, s) in spec.one_of.iter().zip(&sites.one_of) {
        let ty = one_of_type_name(&g.name);
        taken.push((
            ty.clone(),
            format!(
                "is the type of the one-of group `{}` ({}); rename one of them",
                g.name, s.name.key
            ),
        ));
    }
    types(
        &spec.objects,
        &spec.enums,
        sites,
        &roots,
        &taken,
        "neither the result nor a parameter",
    )?;
    one_of(spec, sites)?;
    request_names(spec, sites)
}

/// Cross-checks of an event file.
pub(crate) fn event(event: &EventSpec, sites: &Sites) -> Res<()> {
    let roots = [(&event.data.ty, sites.result.clone().unwrap_or_default())];
    let taken: Vec<(String, String)> = reserved(Reserved::EventType)
        .map(|n| {
            (
                n.to_string(),
                "is reserved for the generated types".to_string(),
            )
        })
        .collect();
    types(
        &event.objects,
        &event.enums,
        sites,
        &roots,
        &taken,
        "`data` never",
    )
}

/// Type names are unique and not `taken` (reserved, or a one-of group's type), every name resolves, no object contains itself,
/// and every object and enum is reachable from `roots` (so nothing is described in vain).
fn types(
    objects: &[Object],
    enums: &[EnumDef],
    sites: &Sites,
    roots: &[(&TypeExpr, Site)],
    taken: &[(String, String)],
    used_by: &str,
) -> Res<()> {
    let defs: Vec<(&str, std::borrow::Cow<'_, Site>)> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.as_str(), site(&sites.objects, i)))
        .chain(
            enums
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.as_str(), site(&sites.enums, i))),
        )
        .collect();
    let mut names = HashSet::new();
    for (name, at) in &defs {
        if !names.insert(*name) {
            return Err(at.error(format!(
                "the type name `{name}` is defined twice in this file"
            )));
        }
        if let Some((_, why)) = taken.iter().find(|(r, _)| r == name) {
            return Err(at.error(format!("`{name}` {why}")));
        }
    }
    let resolve = |ty: &TypeExpr, at: &Site| -> Res<()> {
        for n in ty.named() {
            if !names.contains(n) {
                return Err(at.error(format!(
                    "type `{n}` is not defined: add `[objects.{n}]` or `[enums.{n}]`"
                )));
            }
        }
        Ok(())
    };
    for (ty, at) in roots {
        resolve(ty, at)?;
    }
    for (i, o) in objects.iter().enumerate() {
        let field_sites = sites.field_types.get(i).map_or(&[][..], Vec::as_slice);
        for (k, f) in o.fields.iter().enumerate() {
            resolve(&f.ty, &site(field_sites, k))?;
        }
    }
    no_infinite_objects(objects, sites)?;
    let object = |n: &str| objects.iter().find(|o| o.name == n);
    let mut used: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&TypeExpr> = roots.iter().map(|(t, _)| *t).collect();
    while let Some(ty) = stack.pop() {
        for n in ty.named() {
            if used.insert(n) {
                if let Some(o) = object(n) {
                    stack.extend(o.fields.iter().map(|f| &f.ty));
                }
            }
        }
    }
    for (name, at) in &defs {
        if !used.contains(name) {
            return Err(at.error(format!("`{name}` is defined but {used_by} uses it")));
        }
    }
    Ok(())
}

/// An object must not contain itself by value, directly or through other objects, with no
/// array or map in between: its generated type would be infinitely large. The objects and
/// their fields form a graph walked depth-first with an explicit stack (a spec may describe
/// any number of objects).
fn no_infinite_objects(objects: &[Object], sites: &Sites) -> Res<()> {
    fn by_value(ty: &TypeExpr) -> Option<&str> {
        match ty {
            TypeExpr::Named(n) => Some(n),
            TypeExpr::Nullable(t) => by_value(t),
            _ => None,
        }
    }
    let index: HashMap<&str, usize> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.as_str(), i))
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; objects.len()];
    for root in 0..objects.len() {
        if marks.get(root) != Some(&Mark::New) {
            continue;
        }
        // (object, index of its next field to follow); the path is the stack.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some((node, next)) = path.last_mut() {
            let (node, k) = (*node, *next);
            let Some(field) = objects.get(node).and_then(|o| o.fields.get(k)) else {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            let Some(&to) = by_value(&field.ty).and_then(|n| index.get(n)) else {
                continue;
            };
            match marks[to] {
                Mark::New => {
                    marks[to] = Mark::OnPath;
                    path.push((to, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    // (object index, field index) of each step of the cycle.
                    let steps: Vec<(usize, usize)> = path[from..]
                        .iter()
                        .filter_map(|&(n, next)| Some((n, next.checked_sub(1)?)))
                        .collect();
                    return Err(cycle_error(objects, sites, &steps, (node, k)));
                }
                Mark::Done => {}
            }
        }
    }
    Ok(())
}

/// The error of an object containing itself through `steps` (object and field indices),
/// at the type of the first step's field.
fn cycle_error(
    objects: &[Object],
    sites: &Sites,
    steps: &[(usize, usize)],
    last: (usize, usize),
) -> SpecError {
    let name = |(o, f): (usize, usize)| {
        let obj = objects.get(o);
        (
            obj.map_or("", |x| x.name.as_str()),
            obj.and_then(|x| x.fields.get(f))
                .map_or("", |x| x.name.as_str()),
        )
    };
    let (o, f) = steps.first().copied().unwrap_or(last);
    let cycle: Vec<String> = steps
        .iter()
        .map(|&step| {
            let (on, fname) = name(step);
            format!("`{on}.{fname}`")
        })
        .collect();
    let (on, _) = name((o, f));
    let at = sites
        .field_types
        .get(o)
        .and_then(|fs| fs.get(f))
        .cloned()
        .unwrap_or_default();
    at.error(format!(
        "`{on}` contains itself ({} → `{on}`) with no array or map in between: its type \
         would be infinitely large; make one of these fields an array, a map, or `any`",
        cycle.join(" → "),
    ))
}

/// One-of groups: at least two members, each an optional parameter of the method in one
/// group only, members giving distinct variants, and a group type no other group has.
fn one_of(spec: &Spec, sites: &Sites) -> Res<()> {
    let mut grouped = HashSet::new();
    let mut group_types: Vec<String> = Vec::new();
    for (i, g) in spec.one_of.iter().enumerate() {
        let Some(s) = sites.one_of.get(i) else {
            continue;
        };
        if g.params.len() < 2 {
            return Err(s
                .params
                .error("a one-of group needs at least two parameters".into()));
        }
        let mut variants = Vec::new();
        for (j, name) in g.params.iter().enumerate() {
            let at = site(&s.members, j);
            let Some(p) = spec.params.iter().find(|p| &p.name == name) else {
                return Err(at.error(format!("`{name}` is not a parameter of this method")));
            };
            if p.required {
                return Err(at.error(format!(
                    "`{name}` is `required`; a member of a one-of group cannot be"
                )));
            }
            if !grouped.insert(name.as_str()) {
                return Err(at.error(format!("`{name}` belongs to two one-of groups")));
            }
            let variant = variant_name(name);
            if variants.contains(&variant) {
                return Err(at.error(format!(
                    "`{name}` and another member give the same variant `{variant}`"
                )));
            }
            variants.push(variant);
        }
        if spec.params.iter().any(|p| snake_case(&p.name) == g.name) {
            return Err(s
                .name
                .error(format!("`{}` collides with a parameter's name", g.name)));
        }
        let ty = one_of_type_name(&g.name);
        if is_reserved(Reserved::MethodType, &ty) {
            return Err(s.name.error(format!(
                "`{}` gives the type `{ty}`, which is reserved for the generated types",
                g.name
            )));
        }
        if group_types.contains(&ty) {
            return Err(s.name.error(format!(
                "`{}` gives the type `{ty}`, which another one-of group already has",
                g.name
            )));
        }
        group_types.push(ty);
    }
    Ok(())
}

/// The fields and methods of the generated `Request`: a field per parameter outside a group
/// and one per group, none twice; a setter per optional parameter outside a group and, when
/// one group is the whole of what `Request::new` takes, a constructor per member: none named
/// twice nor like `Request::new`.
fn request_names(spec: &Spec, sites: &Sites) -> Res<()> {
    let group_of = |p: &Param| spec.one_of.iter().position(|g| g.params.contains(&p.name));
    let mut fields: Vec<String> = Vec::new();
    let mut done_groups = HashSet::new();
    let mut methods: Vec<String> = reserved(Reserved::OptionalParam)
        .map(str::to_string)
        .collect();
    for (i, p) in spec.params.iter().enumerate() {
        let Some(s) = sites.params.get(i) else {
            continue;
        };
        let (label, field, at) = match group_of(p) {
            Some(k) => {
                if !done_groups.insert(k) {
                    continue;
                }
                let (Some(g), Some(gs)) = (spec.one_of.get(k), sites.one_of.get(k)) else {
                    continue;
                };
                (&g.name, rust_ident(&g.name), &gs.name)
            }
            None => (&p.name, rust_ident(&field_name(&p.name)), &s.name),
        };
        if fields.contains(&field) {
            return Err(at.error(format!(
                "`{label}` gives the request field `{field}`, which another parameter or \
                 one-of group already has"
            )));
        }
        fields.push(field.clone());
        if group_of(p).is_none() && !p.required {
            if methods.contains(&field) {
                return Err(at.error(format!(
                    "`{label}` gives the setter `Request::{field}`, which clashes with \
                     `Request::new`; an optional parameter may not be named so"
                )));
            }
            methods.push(field);
        }
    }
    let whole_request = spec.one_of.len() == 1 && !spec.params.iter().any(|p| p.required);
    if let (true, Some(g), Some(gs)) = (whole_request, spec.one_of.first(), sites.one_of.first()) {
        for (j, member) in g.params.iter().enumerate() {
            let name = rust_ident(&field_name(member));
            if methods.contains(&name) {
                return Err(site(&gs.members, j).error(format!(
                    "`{member}` gives the constructor `Request::{name}`, which is already taken \
                     (by `Request::new` or a setter)"
                )));
            }
            methods.push(name);
        }
    }
    Ok(())
}
