//! RFC 3261 §12 dialogs for user agents, sans-IO. (Being written.)
