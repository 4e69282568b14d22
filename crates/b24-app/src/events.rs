//! The typed events a handler can take: one name per generated open-lines event, and the
//! [`TypedEvent`] trait that picks it out of a decoded [`Event`].
//!
//! ```
//! use b24_app::events::{OnImConnectorMessageAdd, TypedEvent};
//! assert_eq!(OnImConnectorMessageAdd::EVENT, "OnImConnectorMessageAdd");
//! ```

pub use b24_openlines::events::Event;

/// An event type a handler can be registered for: the delivery type of one generated event.
pub trait TypedEvent: Sized + Send + 'static {
    /// The event name as the docs spell it, used with `event.bind`.
    const EVENT: &'static str;
    /// The name the portal sends in `event` (upper case).
    const WIRE_NAME: &'static str;
    /// Takes this event out of a decoded [`Event`]; `None` if it is another.
    fn from_event(event: Event) -> Option<Self>;
}

macro_rules! typed_events {
    ($($variant:ident => $module:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($variant), "` as a handler receives it: its typed `data`, `auth` and common keys.")]
            pub type $variant = b24_openlines::events::$module::Delivery;

            impl TypedEvent for $variant {
                const EVENT: &'static str = b24_openlines::events::$module::EVENT;
                const WIRE_NAME: &'static str = b24_openlines::events::$module::WIRE_NAME;
                fn from_event(event: Event) -> Option<Self> {
                    match event {
                        Event::$variant(d) => Some(d),
                        _ => None,
                    }
                }
            }
        )*

        /// The names (as the docs spell them) of every event this crate types.
        pub const TYPED_EVENTS: &[&str] = &[$(b24_openlines::events::$module::EVENT),*];
    };
}

typed_events! {
    OnImConnectorDialogFinish => on_im_connector_dialog_finish,
    OnImConnectorDialogStart => on_im_connector_dialog_start,
    OnImConnectorLineDelete => on_im_connector_line_delete,
    OnImConnectorMessageAdd => on_im_connector_message_add,
    OnImConnectorMessageDelete => on_im_connector_message_delete,
    OnImConnectorMessageUpdate => on_im_connector_message_update,
    OnImConnectorStatusDelete => on_im_connector_status_delete,
    OnOpenLineMessageAdd => on_open_line_message_add,
    OnOpenLineMessageDelete => on_open_line_message_delete,
    OnOpenLineMessageUpdate => on_open_line_message_update,
    OnSessionFinish => on_session_finish,
    OnSessionStart => on_session_start,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every generated event is typed here: a new spec file without a line above fails.
    #[test]
    fn every_generated_event_is_typed() {
        let mut generated: Vec<&str> = b24_openlines::events::EVENTS.to_vec();
        let mut typed: Vec<&str> = TYPED_EVENTS.to_vec();
        generated.sort_unstable();
        typed.sort_unstable();
        assert_eq!(generated, typed);
    }
}
