//! The use cases, between the HTTP handlers (`api`) and the served data (`snapshot`):
//! typed requests in, typed results out. A reference is resolved here to the figures it
//! stands for, whether delivered (the municipality, its social-housing sector, the country)
//! or derived (the sector without the plan areas, twin areas); writing and activating
//! dataset versions goes through here to the store.

pub mod comparisons;
pub mod criteria;
pub mod datasets;
pub mod reference;
