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

    /// `lang` wins; then the best of da/en in `Accept-Language` by quality; then Danish (or
    /// English when Danish is refused); 406 when both are.
    pub fn negotiate(req: &HttpRequest, lang: Option<&str>) -> Result<Lang, ApiError> {
        if let Some(l) = lang {
            return match l.to_ascii_lowercase().as_str() {
                "da" => Ok(Lang::Da),
                "en" => Ok(Lang::En),
                _ => Err(ApiError::invalid("lang", format!("lang {l:?} must be da or en"))),
            };
        }
        let header = req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        from_accept_language(header)
            .ok_or_else(|| ApiError::NotAcceptable("Accept-Language refuses both languages the labels come in: da and en".into()))
    }
}

/// The best of da/en in an `Accept-Language` header: the higher weight, Danish on a tie or
/// when neither is named; `None` when both are refused (`q=0`, by name or by `*`).
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let matches = |range: &str, lang: &str| -> Option<u8> {
        if range == "*" {
            return Some(1);
        }
        // a range names a language by its primary subtag here (`en-GB` asks for English)
        let primary = range.split('-').next().unwrap_or("");
        primary.eq_ignore_ascii_case(lang).then_some(2)
    };
    choose(header, &["da", "en"], matches).map(|i| if i == 0 { Lang::Da } else { Lang::En })
}

/// Whether an `Accept` header prefers CSV to JSON (a `format` parameter, where an operation
/// has one, decides before it); `None` when it refuses both.
pub fn prefers_csv(accept: &str) -> Option<bool> {
    choose(accept, &["application/json", "text/csv"], media_range_matches).map(|i| i == 1)
}

/// Whether an `Accept` header refuses a media type outright: `q=0` on the most specific range
/// that names it (RFC 9110 12.4.2, "not acceptable"). A type it does not name is not refused:
/// the header is then disregarded, as RFC 9110 12.5.1 allows.
pub fn refuses(accept: &str, media_type: &str) -> bool {
    // (the common headers have no `q=0` at all: nothing to parse)
    if !accept.contains("q=0") {
        return false;
    }
    let essence = media_type.split(';').next().unwrap_or("").trim();
    weight(accept, essence, media_range_matches) == Some(0.0)
}

/// How specifically a media range names a type: 3 exactly, 2 by `type/*`, 1 by `*/*`.
fn media_range_matches(range: &str, media_type: &str) -> Option<u8> {
    let (t, s) = media_type.split_once('/')?;
    match range.split_once('/')? {
        ("*", "*") => Some(1),
        (rt, "*") if rt.eq_ignore_ascii_case(t) => Some(2),
        (rt, rs) if rt.eq_ignore_ascii_case(t) && rs.eq_ignore_ascii_case(s) => Some(3),
        _ => None,
    }
}

/// The entries of an `Accept`-like header: (range, weight), the weight 1 unless `q` says
/// otherwise (a `q` that is no number in 0–1 leaves the entry out).
fn entries(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or("").trim();
        let mut q = 1.0;
        for p in pieces {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                q = v.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
        (!range.is_empty()).then_some((range, q))
    })
}

/// A candidate's weight by the most specific range that matches it (the first of equals), or
/// `None` when none does.
fn weight(header: &str, candidate: &str, matches: fn(&str, &str) -> Option<u8>) -> Option<f32> {
    let mut best: Option<(u8, f32)> = None;
    for (range, q) in entries(header) {
        if let Some(specificity) = matches(range, candidate)
            && best.is_none_or(|(s, _)| specificity > s)
        {
            best = Some((specificity, q));
        }
    }
    best.map(|(_, q)| q)
}

/// Proactive negotiation over candidates in order of the service's own preference: the
/// highest weight above 0 (the earlier candidate on a tie); when the header names none of
/// them acceptably, the first it does not refuse (RFC 9110 12.5.1 lets the header be
/// disregarded then); `None` when it refuses them all, which is 406.
fn choose(header: &str, candidates: &[&str], matches: fn(&str, &str) -> Option<u8>) -> Option<usize> {
    let weights: Vec<Option<f32>> = candidates.iter().map(|c| weight(header, c, matches)).collect();
    let mut best: Option<(usize, f32)> = None;
    for (i, w) in weights.iter().enumerate() {
        if let Some(w) = *w
            && w > 0.0
            && best.is_none_or(|(_, b)| w > b)
        {
            best = Some((i, w));
        }
    }
    best.map(|(i, _)| i).or_else(|| weights.iter().position(|w| *w != Some(0.0)))
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
        let lang = |h: &str| from_accept_language(h);
        assert_eq!(lang(""), Some(Lang::Da));
        assert_eq!(lang("en"), Some(Lang::En));
        assert_eq!(lang("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(lang("de-DE, en;q=0.5, da;q=0.8"), Some(Lang::Da));
        assert_eq!(lang("fr, de"), Some(Lang::Da));
        assert_eq!(lang("en;q=0, da;q=0.1"), Some(Lang::Da));
        assert_eq!(lang("sv, en-US;q=0.7"), Some(Lang::En));
        assert_eq!(lang("da-DK, en"), Some(Lang::Da));
        // q=0 is "not acceptable": the other language, or none
        assert_eq!(lang("da;q=0"), Some(Lang::En));
        assert_eq!(lang("da;q=0, fr"), Some(Lang::En));
        assert_eq!(lang("*;q=0, en"), Some(Lang::En));
        assert_eq!(lang("da;q=0, en;q=0"), None);
        assert_eq!(lang("*;q=0"), None);
        assert_eq!(lang("*;q=0, da;q=0.2"), Some(Lang::Da));
        assert_eq!(lang("en;q=0.5, *;q=0.9"), Some(Lang::Da), "da by *, at 0.9");
    }

    #[test]
    fn accept_csv_or_json() {
        assert_eq!(prefers_csv(""), Some(false));
        assert_eq!(prefers_csv("text/csv"), Some(true));
        assert_eq!(prefers_csv("*/*"), Some(false));
        assert_eq!(prefers_csv("text/csv;q=0"), Some(false));
        assert_eq!(prefers_csv("text/csv;q=0.1, application/json;q=0.9"), Some(false));
        assert_eq!(prefers_csv("application/json;q=0.5, text/csv;charset=utf-8;q=0.6"), Some(true));
        assert_eq!(prefers_csv("text/*, application/json;q=0.5"), Some(true));
        assert_eq!(prefers_csv("text/csv;q=0, */*;q=0"), None);
        assert_eq!(prefers_csv("application/json;q=0"), Some(true), "JSON refused, CSV not");
        assert_eq!(prefers_csv("image/png"), Some(false), "naming neither: disregarded");
        assert_eq!(prefers_csv("text/csv;q=x"), Some(false), "a broken q leaves the entry out");
        assert!(refuses("application/json;q=0", "application/json"));
        assert!(refuses("*/*;q=0", "application/geo+json"));
        assert!(refuses("application/*;q=0.000, text/csv", "application/json; charset=utf-8"));
        assert!(!refuses("application/*;q=0, application/json", "application/json"), "the most specific range decides");
        assert!(!refuses("text/csv;q=0.5", "application/json"));
        assert!(!refuses("text/csv;q=0", "application/json"));
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
