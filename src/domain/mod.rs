//! The computations of comparisons.md and the disclosure rules of extract-format.md: pure
//! functions, no I/O.

pub mod caller_guard;
pub mod classes;
pub mod comparisons;
pub mod coverage;
pub mod criteria;
pub mod differencing;
pub mod figures;
pub mod geometry;
pub mod model;
pub mod simplify;
pub mod twins;
pub mod validity;
