//! The areas' sums per indicator and year, computed once at import and stored with the
//! version in a compact binary form, so that an instance starting on a national-scale
//! dataset reads a few megabytes instead of aggregating millions of rows.

use std::collections::HashMap;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Text};

use crate::domain::model::Level;
use crate::ingest::Extract;

const MAGIC: &[u8; 8] = b"BSAREA02";
/// The format before the sums were split by the departments' municipality: read as absent.
const MAGIC_UNSPLIT: &[u8; 8] = b"BSAREA01";

/// Σn, Σd and the number of departments with data, per area, municipality the departments
/// lie in (one record for most areas; more for an area reaching over a border), indicator
/// and year.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct AreaSumRecord {
    #[diesel(sql_type = Text)]
    pub boundary_version: String,
    #[diesel(sql_type = Text)]
    pub area_id: String,
    #[diesel(sql_type = BigInt)]
    pub municipality_code: i64,
    #[diesel(sql_type = Text)]
    pub indicator: String,
    #[diesel(sql_type = BigInt)]
    pub year: i64,
    #[diesel(sql_type = Double)]
    pub numerator: f64,
    #[diesel(sql_type = Double)]
    pub denominator: f64,
    #[diesel(sql_type = BigInt)]
    pub departments: i64,
}

/// Σn, Σd and the number of departments with an observation, per delimitation, area,
/// municipality of the departments, indicator and year: what load_dataset's GROUP BY
/// computes, ordered by those keys.
pub fn area_sums(x: &Extract) -> Vec<AreaSumRecord> {
    let mut versions: Vec<&str> = x.memberships.iter().map(|m| m.boundary_version.as_str()).collect();
    versions.sort_unstable();
    versions.dedup();
    let version_index: HashMap<&str, u16> = versions.iter().enumerate().map(|(i, v)| (*v, i as u16)).collect();
    let mut areas_of: Vec<Vec<(u16, u32)>> = vec![Vec::new(); x.departments.len()];
    for m in &x.memberships {
        areas_of[m.department as usize].push((version_index[m.boundary_version.as_str()], m.area));
    }
    // (delimitation, area, municipality, indicator, year) → (Σn, Σd, departments with data)
    type Key = (u16, u32, u16, u16, u16);
    let mut sums: HashMap<Key, (f64, f64, i64)> = HashMap::new();
    for o in x.observations.iter().take_while(|o| o.level == Level::Department) {
        let municipality = x.departments[o.unit as usize].municipality.get();
        for &(version, area) in &areas_of[o.unit as usize] {
            let s = sums.entry((version, area, municipality, o.indicator, o.year)).or_default();
            s.0 += o.numerator;
            s.1 += o.denominator;
            s.2 += 1;
        }
    }
    let mut keys: Vec<_> = sums.keys().copied().collect();
    keys.sort_unstable_by(|a, b| {
        (versions[a.0 as usize], &x.areas[a.1 as usize].area_id, a.2, &x.indicators[a.3 as usize].code, a.4).cmp(&(
            versions[b.0 as usize],
            &x.areas[b.1 as usize].area_id,
            b.2,
            &x.indicators[b.3 as usize].code,
            b.4,
        ))
    });
    keys.into_iter()
        .map(|k| {
            let (n, d, count) = sums[&k];
            AreaSumRecord {
                boundary_version: versions[k.0 as usize].to_string(),
                area_id: x.areas[k.1 as usize].area_id.clone(),
                municipality_code: i64::from(k.2),
                indicator: x.indicators[k.3 as usize].code.clone(),
                year: i64::from(k.4),
                numerator: n,
                denominator: d,
                departments: count,
            }
        })
        .collect()
}

/// Strings are written once in a table; records refer to them by position.
struct Table<'a> {
    index: HashMap<&'a str, u32>,
    items: Vec<&'a str>,
}

impl<'a> Table<'a> {
    fn new() -> Self {
        Table { index: HashMap::new(), items: Vec::new() }
    }

    fn id(&mut self, s: &'a str) -> u32 {
        let next = self.items.len() as u32;
        *self.index.entry(s).or_insert_with(|| {
            self.items.push(s);
            next
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.items.len() as u32).to_le_bytes());
        for s in &self.items {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}

pub fn encode(sums: &[AreaSumRecord]) -> Vec<u8> {
    let mut strings = Table::new();
    let mut records = Vec::with_capacity(sums.len() * 36);
    for s in sums {
        for id in [strings.id(&s.boundary_version), strings.id(&s.area_id), strings.id(&s.indicator)] {
            records.extend_from_slice(&id.to_le_bytes());
        }
        records.extend_from_slice(&(s.municipality_code as u16).to_le_bytes());
        records.extend_from_slice(&(s.year as u16).to_le_bytes());
        records.extend_from_slice(&s.numerator.to_le_bytes());
        records.extend_from_slice(&s.denominator.to_le_bytes());
        records.extend_from_slice(&(s.departments as u32).to_le_bytes());
    }
    let mut out = Vec::with_capacity(records.len() + 1024);
    out.extend_from_slice(MAGIC);
    strings.write(&mut out);
    out.extend_from_slice(&(sums.len() as u32).to_le_bytes());
    out.extend_from_slice(&records);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("the stored aggregates are truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// The next N bytes as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

/// The sums stored with a version; `None` for the format before they were split by
/// municipality, which the caller aggregates anew.
pub fn decode(bytes: &[u8]) -> Result<Option<Vec<AreaSumRecord>>, String> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(MAGIC.len())?;
    if magic == MAGIC_UNSPLIT {
        return Ok(None);
    }
    if magic != MAGIC {
        return Err("the stored aggregates are of an unknown format".into());
    }
    let n_strings = r.u32()? as usize;
    let mut strings = Vec::with_capacity(n_strings.min(1 << 20));
    for _ in 0..n_strings {
        let len = r.u32()? as usize;
        let s = std::str::from_utf8(r.take(len)?).map_err(|_| "a stored name is not UTF-8")?;
        strings.push(s);
    }
    let n = r.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(bytes.len() / 30 + 1));
    let string = |i: u32| strings.get(i as usize).map(|s| s.to_string()).ok_or("a stored reference is out of range");
    for _ in 0..n {
        let (b, a, i) = (r.u32()?, r.u32()?, r.u32()?);
        out.push(AreaSumRecord {
            boundary_version: string(b)?,
            area_id: string(a)?,
            municipality_code: i64::from(r.u16()?),
            indicator: string(i)?,
            year: i64::from(r.u16()?),
            numerator: r.f64()?,
            denominator: r.f64()?,
            departments: i64::from(r.u32()?),
        });
    }
    if r.at != bytes.len() {
        return Err("the stored aggregates have trailing bytes".into());
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let extract = crate::demo::bundled_extract().unwrap();
        let sums = area_sums(&extract);
        assert!(sums.len() > 1000);
        let bytes = encode(&sums);
        assert_eq!(decode(&bytes).unwrap(), Some(sums));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(b"BSAREA02").is_err());
        assert!(decode(b"BSAREA03").is_err());
        assert_eq!(decode(b"BSAREA01").unwrap(), None, "the unsplit format is aggregated anew");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }
}
