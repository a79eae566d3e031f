//! The hasten guide's chapters, included so that `cargo test -p hasten-guide --doc`
//! compiles and runs every Rust sample in them. The book itself is built from `src/`
//! with mdBook.

#[doc = include_str!("src/introduction.md")]
pub mod introduction {}

#[doc = include_str!("src/first-steps.md")]
pub mod first_steps {}

#[doc = include_str!("src/parameters.md")]
pub mod parameters {}

#[doc = include_str!("src/bodies.md")]
pub mod bodies {}

#[doc = include_str!("src/responses.md")]
pub mod responses {}

#[doc = include_str!("src/dependencies.md")]
pub mod dependencies {}

#[doc = include_str!("src/security.md")]
pub mod security {}

#[doc = include_str!("src/background.md")]
pub mod background {}

#[doc = include_str!("src/websockets.md")]
pub mod websockets {}

#[doc = include_str!("src/testing.md")]
pub mod testing {}

#[doc = include_str!("src/settings.md")]
pub mod settings {}

#[doc = include_str!("src/deployment.md")]
pub mod deployment {}

#[doc = include_str!("src/from-fastapi.md")]
pub mod from_fastapi {}
