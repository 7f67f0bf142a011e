//! `ksef-node` — placeholder for the Node.js bindings of the `ksef` core.
//!
//! The Node-bindings issue turns this into a napi-rs addon. Until then it is a
//! plain rlib so the workspace builds; it is not in the workspace's
//! `default-members`.
