//! Sans-IO SIP. (Layout doc to be written with the message core.)
