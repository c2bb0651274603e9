//! Browser peer (skeleton).
