//! A signed-in caller's departments (access.md): which they are, their figures year by year,
//! the sum of a selection of them, and their comparisons with a reference. What a caller may
//! see of them is worked out once per grant and dataset version ([`CallerView`]), under the
//! primary rules and the guard of `domain::caller_guard`, and kept within a memory bound.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::caller_guard::{self, Atoms, Layout, Shape};
use crate::domain::comparisons::{Comparison, ComparisonInputs, compare};
use crate::domain::figures::{Counts, Disclosure, Figure};
use crate::domain::model::{Level, MunicipalityCode, Reference};
use crate::error::ApiError;
use crate::snapshot::{Grant, Point, Snapshot, figure_in};
use crate::store::read::DepartmentObservationRecord;

/// The most departments one selection may name.
pub const MAX_SELECTION: usize = 500;

/// One year of one of the caller's departments: its counts, and whether they may be shown.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OwnPoint {
    year: u16,
    counts: Counts,
    shown: bool,
}

/// What one grant may see in one dataset version.
#[derive(Debug)]
pub struct CallerView {
    pub version: i64,
    pub grant: Grant,
    /// The caller's departments, as indexes into `snapshot.access.departments` (by id).
    pub departments: Vec<usize>,
    /// Per department (in that order) and indicator: its points, years ascending.
    points: Vec<Vec<Vec<OwnPoint>>>,
    /// Per department (in that order): its area in the default delimitation, if any.
    areas: Vec<Option<usize>>,
}

/// Where a public figure holding some of the caller's departments is published.
#[derive(Debug, Clone, Copy)]
enum Source {
    Area {
        delimitation: usize,
        area: usize,
    },
    Level {
        level: Level,
        unit: u16,
    },
    Rest {
        delimitation: usize,
        municipality: MunicipalityCode,
    },
    /// A set of an area's departments that `covered_years` keeps (comparisons.md,
    /// "Coverage"): public like the area's own figure.
    Covered {
        set: usize,
    },
    /// The sector less the sector without a delimitation's areas: those areas' departments in
    /// the municipality, published whenever both are.
    Plan {
        delimitation: usize,
        municipality: MunicipalityCode,
    },
}

impl CallerView {
    /// The departments near the grant's, by index: its own, and then, until nothing more is
    /// added, the others in the areas (of any delimitation) of those near and every department
    /// of their municipalities. (An area over a municipal border joins the two.) The figures
    /// drawn are those holding one of them: those areas, those municipalities' levels, their
    /// regions and the country; in each, what is not near is its level's people beyond them.
    fn near(snapshot: &Snapshot, grant: Grant) -> Vec<usize> {
        let access = &snapshot.access;
        let mut near: Vec<usize> = access.departments_of(grant).filter_map(|d| access.department(&d.department_id)).collect();
        near.sort_unstable();
        let areas: Vec<Vec<usize>> = snapshot
            .delimitations
            .values()
            .flat_map(|d| d.departments.iter().map(|members| members.iter().filter_map(|m| access.department(&m.department_id)).collect()))
            .collect();
        loop {
            let before = near.len();
            // (added after the pass: `near` stays sorted for its binary searches)
            let mut mates: Vec<usize> = Vec::new();
            for members in &areas {
                if members.iter().any(|x| near.binary_search(x).is_ok()) {
                    mates.extend(members);
                }
            }
            near.extend(mates);
            let mut municipalities: Vec<MunicipalityCode> = near.iter().map(|&d| access.departments[d].municipality).collect();
            municipalities.sort_unstable();
            municipalities.dedup();
            near.extend(
                (0..access.departments.len()).filter(|&d| municipalities.binary_search(&access.departments[d].municipality).is_ok()),
            );
            near.sort_unstable();
            near.dedup();
            if near.len() == before {
                return near;
            }
        }
    }

    /// The departments whose observations a view is made from: those
    /// [`CallerView::near`]. Whether each has data in a year (which the areas' coverage
    /// publishes), and whether the social-housing sector holds anyone beyond the listed
    /// departments, decide what can be worked out from the public figures.
    fn wanted(snapshot: &Snapshot, near: &[usize]) -> Vec<String> {
        near.iter().map(|&d| snapshot.access.departments[d].department_id.clone()).collect()
    }

    /// The view of `grant`, from the observations of the departments near it.
    pub fn build(snapshot: &Snapshot, disclosure: &Disclosure, grant: Grant, observations: &[DepartmentObservationRecord]) -> CallerView {
        CallerView::build_near(snapshot, disclosure, grant, &CallerView::near(snapshot, grant), observations)
    }

    /// The view of `grant`, from the observations of the departments near it in the store.
    pub fn read(
        conn: &mut crate::store::DbConnection,
        snapshot: &Snapshot,
        disclosure: &Disclosure,
        grant: Grant,
    ) -> Result<CallerView, crate::store::StoreError> {
        // (worked out once: it chooses the observations read and shapes the view)
        let near = CallerView::near(snapshot, grant);
        let observations =
            crate::store::read::department_observations(conn, snapshot.dataset.version, &CallerView::wanted(snapshot, &near))?;
        Ok(CallerView::build_near(snapshot, disclosure, grant, &near, &observations))
    }

    /// The same, with the departments near it worked out already (they chose the observations).
    fn build_near(
        snapshot: &Snapshot,
        disclosure: &Disclosure,
        grant: Grant,
        near: &[usize],
        observations: &[DepartmentObservationRecord],
    ) -> CallerView {
        let access = &snapshot.access;
        let departments: Vec<usize> = access.departments_of(grant).filter_map(|d| access.department(&d.department_id)).collect::<Vec<_>>();
        let local: HashMap<usize, usize> = departments.iter().enumerate().map(|(i, &d)| (d, i)).collect();
        // the observations by (department, indicator, year)
        let mut seen: HashMap<(usize, usize, u16), Counts> = HashMap::new();
        for o in observations {
            if let (Some(d), Some((i, _))) = (access.department(&o.department_id), snapshot.indicator(&o.indicator)) {
                seen.insert((d, i, o.year as u16), Counts::new(o.numerator, o.denominator as f64));
            }
        }
        let Atomised { layout, sources, sectors, individual } = layout(snapshot, &departments, &local, near);
        let mut points = vec![vec![Vec::new(); snapshot.indicators.len()]; departments.len()];
        for (i, indicator) in snapshot.indicators.iter().enumerate() {
            for &year in &indicator.years {
                let own: Vec<Option<Counts>> = departments.iter().map(|&d| seen.get(&(d, i, year)).copied()).collect();
                if own.iter().all(Option::is_none) {
                    continue;
                }
                let published: Vec<Option<Counts>> = sources.iter().map(|s| s.published(snapshot, i, year)).collect();
                let mut absent = Atoms::with_capacity(individual.len());
                // (every department that is an atom of its own was read: one without an
                // observation this year has none, as the areas' coverage tells anyone)
                for (atom, &d) in individual.iter().enumerate() {
                    if !seen.contains_key(&(d, i, year)) {
                        absent.insert(atom);
                    }
                }
                for sector in &sectors {
                    if sector.is_empty(snapshot, &seen, i, year, &published) {
                        absent.insert(sector.atom);
                    }
                }
                let counts = |atom: usize| individual.get(atom).and_then(|&d| seen.get(&(d, i, year)).copied());
                let year_input =
                    caller_guard::Year { kind: indicator.kind, own: &own, published: &published, absent: &absent, counts: &counts };
                let shown = caller_guard::publishable(disclosure, &layout, &year_input);
                for (d, counts) in own.iter().enumerate() {
                    if let Some(counts) = counts {
                        points[d][i].push(OwnPoint { year, counts: *counts, shown: shown[d] });
                    }
                }
            }
        }
        let mut areas = vec![None; departments.len()];
        let delimitation = snapshot.default_delimitation();
        for area in delimitation.areas() {
            for m in &delimitation.departments[area] {
                if let Some(i) = access.department(&m.department_id).and_then(|d| local.get(&d)) {
                    areas[*i] = Some(area);
                }
            }
        }
        CallerView { version: snapshot.dataset.version, grant, departments, points, areas }
    }

    /// The area of the caller's department at `position` in the default delimitation, if any.
    pub fn area(&self, position: usize) -> Option<usize> {
        self.areas[position]
    }

    /// Roughly what the view holds, for the memory bound.
    pub fn bytes(&self) -> usize {
        let points: usize = self.points.iter().flatten().map(|p| p.capacity() * size_of::<OwnPoint>() + size_of::<Vec<OwnPoint>>()).sum();
        points + self.departments.len() * size_of::<usize>() + self.areas.len() * size_of::<Option<usize>>() + size_of::<CallerView>()
    }

    /// The position of a department among the caller's, by id; `None` for one that is not
    /// the caller's and one that does not exist alike.
    pub fn position(&self, snapshot: &Snapshot, department_id: &str) -> Option<usize> {
        let d = snapshot.access.department(department_id)?;
        self.departments.binary_search(&d).ok()
    }

    /// One of the caller's departments' series, as the caller may see it.
    pub fn series(&self, snapshot: &Snapshot, position: usize, indicator: usize) -> Vec<Point> {
        let kind = snapshot.indicators[indicator].kind;
        self.points[position][indicator]
            .iter()
            .map(|p| Point {
                year: p.year,
                figure: if p.shown {
                    Figure::Ok { value: p.counts.value(kind), numerator: p.counts.numerator, denominator: p.counts.denominator }
                } else {
                    Figure::Suppressed
                },
                coverage: None,
            })
            .collect()
    }

    /// The sum of several of the caller's departments, year by year: withheld in a year where
    /// one of them with data is withheld; `coverage` is the share of them with data.
    pub fn selection(&self, snapshot: &Snapshot, disclosure: &Disclosure, positions: &[usize], indicator: usize) -> Vec<Point> {
        let kind = snapshot.indicators[indicator].kind;
        let mut years: std::collections::BTreeMap<u16, (Counts, bool, usize)> = std::collections::BTreeMap::new();
        for &p in positions {
            for point in &self.points[p][indicator] {
                let (sum, shown, with_data) = years.entry(point.year).or_insert((Counts::default(), true, 0));
                sum.numerator += point.counts.numerator;
                sum.denominator += point.counts.denominator;
                *shown &= point.shown;
                *with_data += 1;
            }
        }
        years
            .into_iter()
            .map(|(year, (sum, shown, with_data))| Point {
                year,
                figure: if shown { disclosure.publish(kind, sum) } else { Figure::Suppressed },
                coverage: Some(with_data as f64 / positions.len() as f64),
            })
            .collect()
    }
}

/// The public figures near the caller's departments: the areas of every delimitation with one
/// of them or one of the other departments loaded (those of the caller's areas and of their
/// municipalities), and the reference levels of those municipalities, their regions and the
/// country. Figures without the caller's departments take part as what may be taken out of
/// those with them. Atoms are the other departments near (the loaded ones and the others of
/// the areas drawn), each alone, then the people of each level outside every listed
/// department; a department far away is only ever in a figure with its municipality's people
/// (its region's, the country's), so it is one atom with them.
struct Atomised {
    layout: Layout,
    sources: Vec<Source>,
    sectors: Vec<Sector>,
    /// The departments that are atoms of their own, by atom.
    individual: Vec<usize>,
}

#[allow(
    clippy::too_many_lines,
    reason = "one list of every public figure holding a near department, each kind a few lines over closures they share"
)]
fn layout(snapshot: &Snapshot, departments: &[usize], local: &HashMap<usize, usize>, near: &[usize]) -> Atomised {
    let access = &snapshot.access;
    let n = access.departments.len();
    let is_near = |x: usize| near.binary_search(&x).is_ok();
    // the departments that are atoms of their own: every other one near (all of their
    // municipalities', and all of the areas drawn)
    let mut municipalities: Vec<MunicipalityCode> = near.iter().map(|&d| access.departments[d].municipality).collect();
    municipalities.sort_unstable();
    municipalities.dedup();
    let individual: Vec<usize> = near.iter().copied().filter(|x| !local.contains_key(x)).collect();
    let base = individual.len();
    let codes: Vec<MunicipalityCode> = snapshot.municipalities.keys().copied().collect();
    let municipality_atom = |m: MunicipalityCode, k: usize| base + 2 * codes.binary_search(&m).unwrap_or(0) + k;
    let atom_of = |x: usize| match individual.binary_search(&x) {
        Ok(i) => i,
        Err(_) => municipality_atom(access.departments[x].municipality, 1),
    };
    let mut shapes = Vec::new();
    let mut sources = Vec::new();
    let mut sectors = Vec::new();
    let mut add = |shape: Shape, source: Source| {
        shapes.push(shape);
        sources.push(source);
        shapes.len() - 1
    };
    // a group of departments as a shape, and whether one of them is near the caller's
    let group = |members: &mut dyn Iterator<Item = &crate::snapshot::Department>, placed: &mut Vec<bool>| {
        let (mut shape, mut close) = (Shape::default(), false);
        for x in members.filter_map(|m| access.department(&m.department_id)) {
            placed[x] = true;
            close |= is_near(x);
            match local.get(&x) {
                Some(&own) => shape.own.push(own),
                None => shape.others.insert(atom_of(x)),
            }
        }
        close.then_some(shape)
    };
    // (areas under each delimitation, and which departments are in one)
    let mut in_area: Vec<Vec<bool>> = Vec::new();
    for (di, d) in snapshot.delimitations.values().enumerate() {
        let mut placed = vec![false; n];
        for area in d.areas() {
            if let Some(shape) = group(&mut d.departments[area].iter(), &mut placed) {
                add(shape, Source::Area { delimitation: di, area });
            }
        }
        in_area.push(placed);
    }
    // the coverage-restricted figures of the dataset's delimitation: a part of an area each
    let own = snapshot.default_delimitation();
    for (set, c) in snapshot.coverage.sets().iter().enumerate() {
        if let Some(shape) = group(&mut c.members.iter().map(|&p| &own.departments[c.area][p as usize]), &mut vec![false; n]) {
            add(shape, Source::Covered { set });
        }
    }
    // the levels: a municipality's people beyond its social housing, its social housing beyond
    // the listed departments, a region's beyond its municipalities, the country's beyond them all
    let mut regions: Vec<u16> = snapshot.municipalities.values().filter_map(|m| m.region()).collect();
    regions.sort_unstable();
    regions.dedup();
    let region_atom = |r: u16| base + 2 * codes.len() + regions.binary_search(&r).unwrap_or(0);
    let country_atom = base + 2 * codes.len() + regions.len();
    let level_shape = |keep: &dyn Fn(usize) -> bool, atoms: &[usize]| {
        let mut shape = Shape::default();
        for x in (0..n).filter(|&x| keep(x)) {
            match local.get(&x) {
                Some(&own) => shape.own.push(own),
                None => shape.others.insert(atom_of(x)),
            }
        }
        for &a in atoms {
            shape.others.insert(a);
        }
        shape
    };
    for &m in &municipalities {
        let here = |x: usize| access.departments[x].municipality == m;
        let (sector, people) = (municipality_atom(m, 0), municipality_atom(m, 1));
        add(level_shape(&here, &[sector, people]), Source::Level { level: Level::Municipality, unit: m.get() });
        let shape = add(level_shape(&here, &[sector]), Source::Level { level: Level::SocialHousing, unit: m.get() });
        let members = (0..n).filter(|&x| here(x)).collect();
        sectors.push(Sector { atom: sector, municipality: m, shape, members, placed: in_area.clone() });
        for (di, placed) in in_area.iter().enumerate() {
            add(level_shape(&|x| here(x) && !placed[x], &[sector]), Source::Rest { delimitation: di, municipality: m });
            add(level_shape(&|x| here(x) && placed[x], &[]), Source::Plan { delimitation: di, municipality: m });
        }
    }
    let region_of = |m: MunicipalityCode| snapshot.municipalities.get(&m).and_then(|x| x.region());
    let mut own_regions: Vec<u16> = municipalities.iter().filter_map(|&m| region_of(m)).collect();
    own_regions.sort_unstable();
    own_regions.dedup();
    for r in own_regions {
        let inside: Vec<usize> = codes
            .iter()
            .filter(|&&m| region_of(m) == Some(r))
            .flat_map(|&m| [municipality_atom(m, 0), municipality_atom(m, 1)])
            .chain([region_atom(r)])
            .collect();
        add(
            level_shape(&|x| region_of(access.departments[x].municipality) == Some(r), &inside),
            Source::Level { level: Level::Region, unit: r },
        );
    }
    if !departments.is_empty() {
        let everything: Vec<usize> = (base..=country_atom).collect();
        add(level_shape(&|_| true, &everything), Source::Level { level: Level::Country, unit: 0 });
    }
    Atomised { layout: Layout::new(departments.len(), shapes), sources, sectors, individual }
}

/// The people of a municipality's social-housing sector beyond its listed departments: an
/// atom that is empty in a year where the sector's figure is exactly its departments' sum (a
/// caller that knows them all, or all but one, could otherwise tell).
struct Sector {
    atom: usize,
    municipality: MunicipalityCode,
    /// The sector's shape.
    shape: usize,
    /// The departments in the municipality.
    members: Vec<usize>,
    /// Per delimitation, whether a department is in one of its areas.
    placed: Vec<Vec<bool>>,
}

impl Sector {
    /// Whether the sector is its departments' sum this year, judged from the published
    /// sector figure or, where that is withheld, a published figure of the sector without
    /// a delimitation's areas.
    fn is_empty(
        &self,
        snapshot: &Snapshot,
        seen: &HashMap<(usize, usize, u16), Counts>,
        indicator: usize,
        year: u16,
        published: &[Option<Counts>],
    ) -> bool {
        let sum = |keep: &dyn Fn(usize) -> bool| {
            self.members
                .iter()
                .filter(|&&x| keep(x))
                .filter_map(|&x| seen.get(&(x, indicator, year)))
                .fold(Counts::default(), |a, c| Counts::new(a.numerator + c.numerator, a.denominator + c.denominator))
        };
        let same = |a: Counts, b: Counts| (a.numerator - b.numerator).abs() < 1e-9 && (a.denominator - b.denominator).abs() < 1e-9;
        if let Some(Some(sector)) = published.get(self.shape) {
            return same(*sector, sum(&|_| true));
        }
        for (di, d) in snapshot.delimitations.values().enumerate() {
            if let Some(Figure::Ok { numerator, denominator, .. }) =
                figure_in(d.rest_series(self.municipality, indicator), year).map(|p| p.figure)
            {
                return same(Counts::new(numerator, denominator), sum(&|x| !self.placed[di][x]));
            }
        }
        false
    }
}

impl Source {
    /// The figure's counts in a year, where it is published.
    fn published(self, snapshot: &Snapshot, indicator: usize, year: u16) -> Option<Counts> {
        let counts = |points: &[Point]| match figure_in(points, year).map(|p| p.figure) {
            Some(Figure::Ok { numerator, denominator, .. }) => Some(Counts::new(numerator, denominator)),
            _ => None,
        };
        let delimitation = |d: usize| snapshot.delimitations.values().nth(d);
        match self {
            Source::Area { delimitation: d, area } => counts(delimitation(d)?.series(area, indicator)),
            Source::Level { level, unit } => counts(snapshot.level_series(level, unit, indicator)),
            Source::Covered { set } => counts(snapshot.coverage.series(set, indicator)),
            Source::Rest { delimitation: d, municipality } => counts(delimitation(d)?.rest_series(municipality, indicator)),
            Source::Plan { delimitation: d, municipality } => {
                let sector = counts(snapshot.level_series(Level::SocialHousing, municipality.get(), indicator))?;
                let rest = counts(delimitation(d)?.rest_series(municipality, indicator))?;
                Some(Counts::new(sector.numerator - rest.numerator, sector.denominator - rest.denominator))
            }
        }
    }
}

/// The views worked out, by dataset version and grant, within `max_bytes`.
pub struct Views {
    cache: moka::sync::Cache<(i64, Grant), Arc<CallerView>>,
}

impl Views {
    pub fn new(max_bytes: u64) -> Views {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_, v: &Arc<CallerView>| u32::try_from(v.bytes()).unwrap_or(u32::MAX))
            .build();
        Views { cache }
    }

    /// The grant's view of the snapshot: kept, or worked out from the store once (others
    /// asking for it meanwhile wait for that one).
    pub async fn view(
        &self,
        snapshot: Arc<Snapshot>,
        pool: super::datasets::Pool,
        disclosure: Disclosure,
        grant: Grant,
    ) -> Result<Arc<CallerView>, ApiError> {
        let key = (snapshot.dataset.version, grant);
        if let Some(v) = self.cache.get(&key) {
            return Ok(v);
        }
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            cache
                .try_get_with(key, || {
                    let mut conn = pool.get()?;
                    CallerView::read(&mut conn, &snapshot, &disclosure, grant).map(Arc::new)
                })
                .map_err(|e| ApiError::Unavailable(format!("the departments cannot be read: {e}")))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("the department view failed: {e}")))?
    }

    /// Drops every view: called when another version is served (a new snapshot has none).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

/// A reference a department is compared with: the delivered levels of its municipality, the
/// sector without the plan areas, the country, or its own plan area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartmentReference {
    Public(Reference),
    Area,
}

impl DepartmentReference {
    pub fn parse(text: &str) -> Option<DepartmentReference> {
        match text {
            "area" => Some(DepartmentReference::Area),
            "twins" => None,
            other => other.parse::<Reference>().ok().map(DepartmentReference::Public),
        }
    }
}

/// Every department of the caller against a reference, between two years.
pub struct DepartmentComparisonRequest {
    pub indicator: usize,
    pub from: u16,
    pub to: u16,
    pub reference: DepartmentReference,
    pub threshold: f64,
}

/// One department's comparison: its position among the caller's, its default area if any.
pub struct DepartmentComparison {
    pub position: usize,
    pub area: Option<usize>,
    pub comparison: Comparison,
}

pub fn compare_departments(snapshot: &Snapshot, view: &CallerView, r: &DepartmentComparisonRequest) -> Vec<DepartmentComparison> {
    let indicator = &snapshot.indicators[r.indicator];
    let delimitation = snapshot.default_delimitation();
    view.departments
        .iter()
        .enumerate()
        .map(|(position, &d)| {
            let entry = &snapshot.access.departments[d];
            let area = view.area(position);
            let own = view.series(snapshot, position, r.indicator);
            let reference: &[Point] = match r.reference {
                DepartmentReference::Area => area.map_or(&[], |a| delimitation.series(a, r.indicator)),
                DepartmentReference::Public(reference) => {
                    snapshot.reference_series(reference, delimitation, entry.municipality, r.indicator)
                }
            };
            let figure = |points: &[Point], year: u16| figure_in(points, year).map(|p| p.figure);
            let inputs = ComparisonInputs {
                area_from: figure(&own, r.from),
                area_to: figure(&own, r.to),
                reference_from: figure(reference, r.from),
                reference_to: figure(reference, r.to),
            };
            DepartmentComparison { position, area, comparison: compare(indicator.direction, r.threshold, inputs) }
        })
        .collect()
}
