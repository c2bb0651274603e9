//! Sans-IO Chord ring. (Layout doc to be written with the ring core.)
