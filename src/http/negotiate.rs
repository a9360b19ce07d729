//! Negotiation, decided once for the cache key and the handlers alike: the label language
//! (`?lang=da|en`, else `Accept-Language`, else Danish), the content coding (`Accept-Encoding`)
//! and whether a table is asked for as CSV (`Accept: text/csv`).

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Da,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Da => "da",
            Lang::En => "en",
        }
    }

    /// Picks the Danish or English text.
    pub fn pick<'a>(self, da: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Da => da,
            Lang::En => en,
        }
    }

    pub fn pick_opt<'a>(self, da: Option<&'a str>, en: Option<&'a str>) -> Option<&'a str> {
        match self {
            Lang::Da => da,
            Lang::En => en,
        }
    }

    /// `lang` wins; then the best of da/en in `Accept-Language` by quality; then Danish.
    pub fn negotiate(req: &HttpRequest, lang: Option<&str>) -> Result<Lang, ApiError> {
        if let Some(l) = lang {
            return match l.to_ascii_lowercase().as_str() {
                "da" => Ok(Lang::Da),
                "en" => Ok(Lang::En),
                _ => Err(ApiError::invalid("lang", format!("lang {l:?} must be da or en"))),
            };
        }
        let header = req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Ok(from_accept_language(header))
    }
}

/// The best of da/en in an `Accept-Language` header; Danish when neither is there.
pub fn from_accept_language(header: &str) -> Lang {
    let mut best: Option<(f32, usize, Lang)> = None;
    for (position, part) in header.split(',').enumerate() {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = pieces.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let lang = match primary {
            "da" => Lang::Da,
            "en" => Lang::En,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        // higher quality wins; on a tie, the earlier entry
        if best.is_none_or(|(q, p, _)| quality > q || (quality == q && position < p)) {
            best = Some((quality, position, lang));
        }
    }
    best.map_or(Lang::Da, |(_, _, l)| l)
}

/// Whether an `Accept` header asks for CSV (a `format` parameter, where an operation has one,
/// decides before it).
pub fn accepts_csv(accept: &str) -> bool {
    accept.contains("text/csv")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// What the coding adds to an ETag (a strong validator differs between codings).
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }

    /// The `Content-Encoding` value.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// The best coding the client accepts: brotli, then gzip, else none.
    pub fn negotiate(accept_encoding: Option<&str>) -> Coding {
        let mut br = false;
        let mut gzip = false;
        for part in accept_encoding.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let name = pieces.next().unwrap_or("").trim();
            let q = pieces.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if name.eq_ignore_ascii_case("br") {
                br = true;
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = true;
            } else if name == "*" {
                br = true;
                gzip = true;
            }
        }
        if br {
            Coding::Brotli
        } else if gzip {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language(""), Lang::Da);
        assert_eq!(from_accept_language("en"), Lang::En);
        assert_eq!(from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(from_accept_language("de-DE, en;q=0.5, da;q=0.8"), Lang::Da);
        assert_eq!(from_accept_language("fr, de"), Lang::Da);
        assert_eq!(from_accept_language("en;q=0, da;q=0.1"), Lang::Da);
        assert_eq!(from_accept_language("sv, en-US;q=0.7"), Lang::En);
        assert_eq!(from_accept_language("da-DK, en"), Lang::Da);
    }

    #[test]
    fn negotiates_codings() {
        assert_eq!(Coding::negotiate(None), Coding::Identity);
        assert_eq!(Coding::negotiate(Some("gzip, deflate")), Coding::Gzip);
        assert_eq!(Coding::negotiate(Some("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(Coding::negotiate(Some("br;q=0, gzip")), Coding::Gzip);
        assert_eq!(Coding::negotiate(Some("identity")), Coding::Identity);
        assert_eq!(Coding::negotiate(Some("*")), Coding::Brotli);
        assert_eq!(Coding::negotiate(Some("GZip, X-GZIP;q=0.5")), Coding::Gzip, "coding names ignore case");
    }
}
