//! The error answers operations share, declared once per family (as crates.io does) rather
//! than in each operation's document: `responses((status = 200, …), BadQuery, Unloaded)`.
//! Each is RFC 9457 problem details, whose examples the document adds (openapi.rs).

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};

use crate::error::{PROBLEM_JSON, ProblemDetails};

/// A problem answer with `status` and `description`.
fn problem(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    use utoipa::ToSchema;
    let schema = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ProblemDetails::name()));
    let content = ContentBuilder::new().schema(Some(schema)).build();
    let response = ResponseBuilder::new().description(description).content(PROBLEM_JSON, content).build();
    BTreeMap::from([(status.to_string(), RefOr::T(response))])
}

macro_rules! family {
    ($(#[$doc:meta])* $name:ident: $status:literal, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem($status, $description)
            }
        }
    };
}

family! {
    /// Every read of the data before a dataset is loaded.
    Unloaded: "503", "No dataset is loaded yet"
}
family! {
    /// An operation whose parameters say what to compute.
    BadQuery: "400", "A missing or invalid parameter: the problem names it"
}
family! {
    /// An operation that takes no parameter.
    TakesNoParameters: "400", "A query parameter: this operation takes none"
}
family! {
    /// An operation whose parameters are optional.
    InvalidOrUnknown: "400", "An invalid or unknown parameter"
}
family! {
    /// An operation on one area.
    NoSuchArea: "404", "No such area"
}

family! {
    /// An operation on one of a signed-in caller's departments.
    NoSuchDepartment: "404", "Not one of the caller's departments (answered as one that does not exist), or signed-in access is off"
}

/// What every `/v1/me` operation may answer instead (access.md).
pub struct SignedInRefusals;

impl IntoResponses for SignedInRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = problem("401", "No access token, or one that is not valid (`WWW-Authenticate: Bearer error=\"invalid_token\"`)");
        all.extend(problem(
            "403",
            "The token lacks the scope (`insufficient_scope`), or its CVR number is neither an organisation's nor a municipality's",
        ));
        all.extend(problem("404", "Signed-in access is off: auth.issuer is not set"));
        all.extend(problem("429", "Too many requests from this caller, or failed sign-ins from this client"));
        all.extend(problem("503", "No dataset is loaded yet, the issuer's keys cannot be had, or the request could not be audited"));
        all
    }
}
