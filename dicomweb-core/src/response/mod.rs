//! Placeholder: filled in by the protocol work (see ARCHITECTURE.md).
