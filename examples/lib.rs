//! Shared nothing: this package only hosts the runnable examples.
