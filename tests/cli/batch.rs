//! placeholder, filled in below.
