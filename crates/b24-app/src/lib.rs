//! A Bitrix24 application serving many portals, on top of `b24-openlines`.
//!
//! Open-lines integrations are applications: `imconnector.*` works only in an application's
//! context, events go to an application's handler, and a published application serves many
//! portals, each with its own rotating OAuth pair and its own `application_token`. This crate
//! does that part:
//!
//! * **Install** ([`App::router`] `POST /install`): the `ONAPPINSTALL` event or the frame
//!   install page. The OAuth pair is verified with the authorization server before anything
//!   is stored (see [`install`](crate::InstallError) and the README's threat model), the portal
//!   is stored with its `application_token`, and the handlers' events are bound
//!   (`event.bind`). A reinstall replaces the old tokens; `ONAPPUNINSTALL` removes the portal.
//! * **Per-portal clients** ([`App::client`]): one cached `b24_openlines::Client` per portal,
//!   whose token refreshes are written back to the store.
//! * **A store** ([`AppStore`], embedded [`SqliteStore`]): portals, tokens, application
//!   tokens, one file, migrations in `migrations/`.
//! * **Events over HTTP** (`POST /events`): looked up by the claimed `member_id`, verified
//!   by `application_token` in constant time, decoded into the generated
//!   [`events::Event`] and handed to typed handlers ([`AppBuilder::on`]) with the portal's
//!   client.
//! * **The offline queue** ([`OfflineConsumer`]): `event.offline.get` with `clear=0`, the same
//!   handlers, then `event.offline.clear` of exactly what was handled; at least once.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use b24_app::events::OnImConnectorMessageAdd;
//! use b24_app::{App, SqliteStore};
//!
//! let app = App::builder("app.0123.4567", std::env::var("B24_CLIENT_SECRET")?)
//!     .store(Arc::new(SqliteStore::open("app.db").await?))
//!     .events_url("https://connector.example.com/b24/events".parse()?)
//!     .on(|e: OnImConnectorMessageAdd, ctx| async move {
//!         for m in &e.data.messages {
//!             println!("{}: {}", ctx.member_id(), m.message.text);
//!         }
//!         Ok::<(), std::io::Error>(())
//!     })
//!     .build()?;
//! let router = axum::Router::new().nest("/b24", app.router());
//! axum::serve(tokio::net::TcpListener::bind("0.0.0.0:8080").await?, router).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod app;
pub mod events;
mod handlers;
mod http;
mod install;
mod offline;
mod store;

pub use app::{App, AppBuilder, AppError, BuildError, PortalShare, DEFAULT_MAX_BODY_BYTES};
pub use handlers::{EventContext, EventSource, HandlerError};
pub use install::InstallError;
pub use offline::{OfflineConfig, OfflineConsumer, PollReport};
pub use store::{AppStore, AppStoreError, Installation, SqliteStore, StoreFuture};

// The README's Rust blocks compile.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
