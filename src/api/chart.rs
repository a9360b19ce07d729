//! `/v1/comparisons/chart.svg`: the note's figure as a picture — one bar per area, sorted,
//! labelled with the difference rounded to 0.1 — for reports and web pages to embed.

use std::fmt::Write;

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::AppState;
use super::comparisons::{ComparisonItem, ComparisonsQuery};
use super::params::data_body;
use crate::domain::figures::Status;
use crate::domain::model::Kind;
use crate::error::{ApiError, ProblemDetails};
use crate::http::extract::QueryParams;
use crate::http::negotiate::Lang;
use crate::http::offload;
use crate::query::comparisons::{ComparisonRequest, Order, compare_areas};
use crate::snapshot::Snapshot;

/// Text safe inside SVG elements and attributes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A number as the note writes it: one decimal, a decimal comma in Danish, a real minus.
pub fn label(x: f64, lang: Lang) -> String {
    let x = crate::domain::figures::round_half_away(x, 1);
    let s = format!("{:.1}", x.abs());
    let s = if lang == Lang::Da { s.replace('.', ",") } else { s };
    if x < 0.0 && s.trim_start_matches(['0', ',', '.']).chars().any(|c| c != '0') { format!("−{s}") } else { s }
}

pub struct ChartText<'a> {
    pub title: &'a str,
    pub subtitle: String,
    pub note: String,
}

/// Renders the sorted items; items without numbers are counted in a line under the bars.
pub fn render(items: &[ComparisonItem], text: &ChartText, lang: Lang) -> String {
    let bars: Vec<&ComparisonItem> = items.iter().filter(|i| i.comparison.status == Status::Ok).collect();
    let without = items.len() - bars.len();
    // names end at `names`; the gap up to `left` takes the labels of the longest negative bars
    let (row, top, names, left, right, width) = (18.0, 64.0, 180.0, 230.0, 60.0, 720.0);
    let plot = width - left - right;
    let note_lines = wrap(&text.note, 110);
    let height = top + row * bars.len() as f64 + 40.0 + 14.0 * note_lines.len() as f64;
    let values: Vec<f64> = bars.iter().filter_map(|i| i.comparison.difference_rounded).collect();
    let lo = values.iter().copied().fold(0.0_f64, f64::min);
    let hi = values.iter().copied().fold(0.0_f64, f64::max);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let x = |v: f64| left + (v - lo) / span * plot;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11" role="img" aria-label="{}">"#,
        escape(text.title)
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = write!(s, r##"<text x="12" y="22" font-size="15" font-weight="bold" fill="#1a1a1a">{}</text>"##, escape(text.title));
    let _ = write!(s, r##"<text x="12" y="42" fill="#444444">{}</text>"##, escape(&text.subtitle));
    for (k, item) in bars.iter().enumerate() {
        let v = item.comparison.difference_rounded.unwrap_or(0.0);
        let y = top + row * k as f64;
        let (x0, x1) = (x(0.0).min(x(v)), x(0.0).max(x(v)));
        let colour = match item.comparison.stronger {
            Some(true) => "#2a7f62",
            Some(false) => "#c8553d",
            None => "#7a7a7a",
        };
        let _ = write!(s, r##"<text x="{}" y="{}" text-anchor="end" fill="#1a1a1a">{}</text>"##, names, y + 12.0, escape(&item.area_name));
        let _ = write!(
            s,
            r#"<rect class="bar" data-area="{}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}: {}</title></rect>"#,
            escape(&item.area_id),
            y + 3.0,
            (x1 - x0).max(0.5),
            row - 6.0,
            escape(&item.area_name),
            label(v, lang)
        );
        let (lx, anchor) = if v < 0.0 { (x0 - 4.0, "end") } else { (x1 + 4.0, "start") };
        let _ = write!(s, r##"<text x="{lx:.1}" y="{}" text-anchor="{anchor}" fill="#1a1a1a">{}</text>"##, y + 12.0, label(v, lang));
    }
    let zero = x(0.0);
    let bottom = top + row * bars.len() as f64;
    let _ = write!(s, r##"<line x1="{zero:.1}" y1="{}" x2="{zero:.1}" y2="{bottom}" stroke="#1a1a1a" stroke-width="1"/>"##, top - 4.0);
    let mut y = bottom + 20.0;
    if without > 0 {
        let line = match lang {
            Lang::Da => format!("{without} område(r) uden tal: diskretioneret eller uden data"),
            Lang::En => format!("{without} area(s) without figures: suppressed or no data"),
        };
        let _ = write!(s, r##"<text x="12" y="{y}" fill="#444444">{}</text>"##, escape(&line));
        y += 16.0;
    }
    for line in note_lines {
        let _ = write!(s, r##"<text x="12" y="{y}" font-size="10" fill="#444444">{}</text>"##, escape(&line));
        y += 14.0;
    }
    s.push_str("</svg>");
    s
}

/// Breaks text into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The comparison as a bar chart (SVG), in the note's style.
///
/// One bar per area with a figure: the difference between the area's development and the reference's over the years
/// asked for, sorted, coloured by whether the area developed better (in the indicator's direction), labelled to one
/// decimal. For a report or a web page; the same parameters as /v1/comparisons.
#[utoipa::path(
    tag = "comparisons",
    params(ComparisonsQuery),
    responses(
        (status = 200, description = "An SVG image: one bar per area with figures, sorted by difference, labelled with the \
            difference rounded to 0.1", content_type = "image/svg+xml"),
        (status = 400, description = "A missing or invalid parameter", body = ProblemDetails, content_type = "application/problem+json"),
        super::responses::Unloaded,
    )
)]
#[get("/v1/comparisons/chart.svg")]
pub async fn comparison_chart(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: QueryParams<ComparisonsQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(format) = &query.format {
        return Err(ApiError::invalid("format", format!("format {format:?}: this operation answers SVG; leave format out")));
    }
    let snapshot = state.snapshot()?;
    let lang = Lang::negotiate(&req, query.lang.as_deref())?;
    offload::render(&req, move || {
        let mut request = super::comparisons::parse_request(&snapshot, query.params())?;
        request.order = Some(super::comparisons::parse_order(query.sort.as_deref())?.unwrap_or(Order::BY_DIFFERENCE));
        let items = super::comparisons::items(&snapshot, compare_areas(&snapshot, &request));
        let text = ChartText::of(&snapshot, &request, lang);
        Ok(data_body(&snapshot, Some(lang), crate::http::formats::SVG.media_type, render(&items, &text, lang)))
    })
    .await
}

impl ChartText<'_> {
    /// The chart's title, subtitle and note for a comparison, in the language.
    fn of<'s>(snapshot: &'s Snapshot, request: &ComparisonRequest, lang: Lang) -> ChartText<'s> {
        let indicator = &snapshot.indicators[request.indicator];
        let unit = match (indicator.kind, lang) {
            (Kind::Share, Lang::Da) => "procentpoint",
            (Kind::Share, Lang::En) => "percentage points",
            (Kind::Rate, Lang::Da) => "pr. 1.000",
            (Kind::Rate, Lang::En) => "per 1,000",
            (Kind::Mean, _) => "",
        };
        let reference = request.reference.reference.label(lang == Lang::Da);
        let (from, to, boundary) = (request.from, request.to, request.unit.boundary_version);
        let (source, version) = (&snapshot.dataset.source, snapshot.dataset.version);
        ChartText {
            title: lang.pick(&indicator.name_da, &indicator.name_en),
            subtitle: match lang {
                Lang::Da => format!("Udviklingen {from}-{to} i området fratrukket udviklingen i {reference} ({unit})"),
                Lang::En => format!("Change {from}-{to} in the area minus the change in {reference} ({unit})"),
            },
            note: match lang {
                Lang::Da => format!("Afrundet til nærmeste 0,1. Afgrænsning {boundary}. Kilde: {source} (datasætversion {version})."),
                Lang::En => format!("Rounded to the nearest 0.1. Delimitation {boundary}. Source: {source} (dataset version {version})."),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_the_notes_style() {
        assert_eq!(label(-5.25, Lang::Da), "−5,3");
        assert_eq!(label(-5.3, Lang::En), "−5.3");
        assert_eq!(label(12.0, Lang::Da), "12,0");
        assert_eq!(label(-0.0, Lang::Da), "0,0");
        assert_eq!(label(-0.04, Lang::Da), "0,0");
    }

    #[test]
    fn wraps_notes() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
