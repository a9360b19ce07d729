//! The query string read into an operation's typed query struct, once, at the edge: every
//! value is parsed by its type (`api::params`), and a value a type refuses is a 400 naming
//! the parameter, in the words of the type. actix-web's `Query` says only that the string did
//! not deserialize; `serde_path_to_error` gives the field the failing value belongs to.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Stands for the parameter's name in a message made without it (inside serde, which knows
/// the value but not the field); a message that begins with it is a parameter type's. A
/// client's text is quoted with `{:?}` in such messages, which escapes this character, so
/// a client cannot forge it.
pub const NAME_MARK: char = '\u{0}';

/// An operation's query parameters, typed.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T> QueryParams<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for QueryParams<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(QueryParams).map_err(Into::into))
    }
}

/// Reads a query string into `T`; the problem names the parameter that failed.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        match message.strip_prefix(NAME_MARK) {
            Some(detail) => {
                let name = e.path().to_string();
                ApiError::invalid(&name, detail.replace(NAME_MARK, &name))
            }
            None => crate::error::query_text_problem(&message),
        }
    })
}
