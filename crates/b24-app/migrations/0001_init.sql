-- b24-app store, version 1: one row per installed portal and one row of OAuth tokens per
-- portal. Applied once, in a transaction, when `PRAGMA user_version` is below 1.
--
-- The secrets (application_token, access_token, refresh_token) are stored in clear: the
-- application must present them to the portal and the OAuth server. Protect the file
-- (its mode is 0600 on Unix; see the crate README, "Tokens at rest").

CREATE TABLE portals (
    -- auth[member_id]: the portal's identity, stable across domain renames.
    member_id          TEXT PRIMARY KEY NOT NULL,
    -- A fresh random id per install: a token refresh of an earlier install of the same
    -- portal (a client still running during a reinstall) cannot overwrite the new tokens.
    install_id         TEXT NOT NULL,
    domain             TEXT NOT NULL,
    -- REST endpoint, `https://<portal>/rest/`.
    client_endpoint    TEXT NOT NULL,
    -- OAuth server's REST endpoint as the portal named it (informational).
    server_endpoint    TEXT,
    scope              TEXT,
    status             TEXT,
    -- auth[application_token]: proves that an event POST comes from this portal.
    application_token  TEXT NOT NULL,
    -- Unix seconds.
    installed_at       INTEGER NOT NULL,
    -- The offline-queue consumer's process_id on this portal, kept across restarts so a
    -- batch reserved by `event.offline.get` (clear=0) before a crash is fetched again.
    offline_process_id TEXT
) STRICT;

CREATE TABLE tokens (
    member_id     TEXT PRIMARY KEY NOT NULL REFERENCES portals (member_id) ON DELETE CASCADE,
    -- The install these tokens belong to (portals.install_id).
    install_id    TEXT NOT NULL,
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    -- When the access token expires, Unix seconds; NULL when unknown.
    expires_at    INTEGER,
    -- Unix seconds of the last write (install or refresh).
    updated_at    INTEGER NOT NULL
) STRICT;
