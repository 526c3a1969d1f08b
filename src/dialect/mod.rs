//! Database dialects. Each one owns its connection handling, catalog introspection, scratch database and
//! SQL rendering; the generic modules reach them only through small traits such as
//! [`crate::plan::SqlRenderer`].

pub mod postgres;
