//! Browser drivers (being written).
