//! Secondary suppression against differencing. Figures of groups of departments minus the
//! published figures of groups wholly inside them are the figure of the departments left over,
//! and that leaves the service as surely as a published one. It happens where areas under one
//! delimitation hold areas of another (an area that grew by a department, areas merged or
//! redrawn), and where a municipality's, its social-housing sector's or the country's figure
//! holds the municipality's (or all) areas. When the disclosure rules would suppress what is
//! left over, one more of the figures that make it is withheld, the cheapest by a ranking the
//! caller gives (a non-default delimitation's areas before a reference level, the default
//! delimitation's areas last), until no such difference is left.
//!
//! What this covers: any combination of one delimitation's areas (within a connected group of
//! up to MAX_JOINT of them) or one reference figure, minus the published areas of one other
//! delimitation inside it, or a reference figure minus the published areas of two
//! delimitations that share no department (when only what is left over has data, the rest
//! figure is the one withheld for it before, and for nothing: the other two gave it away); a
//! property test checks that against every combination. Not covered: other equations mixing
//! three or more delimitations, or a reference figure and two delimitations' areas one of
//! which reaches over the municipality's border (that area minus the other's beyond the
//! border is a piece inside, which the municipality's figures hold); areas that overlap only
//! where departments lack data in a year; and differences between the delivered reference
//! levels themselves (taken as delivered). An area counts as inside a municipality's figures when all its departments
//! lie there. A figure that the published ones give already is never withheld (`futile`).

use std::collections::HashMap;
use std::hash::Hash;

use super::figures::{Counts, Disclosure};
use super::model::{Kind, Level};

/// Figures whose groups together hold the groups of other figures wholly: an area under one
/// delimitation and areas of another inside it; several areas of one delimitation whose
/// departments hold several of another's; or a reference level's figure and one delimitation's
/// areas in it. The containers are disjoint, and so are the parts, as a department belongs to
/// at most one area within a delimitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Containment<N> {
    pub containers: Vec<N>,
    pub parts: Vec<N>,
}

/// An area as given to `containments`: (delimitation, area, departments).
type Members<D, A, Dep> = (D, A, Vec<Dep>);

/// Beyond this many areas of one delimitation in one connected group, only each area alone and
/// the whole group are tried as containers, not every combination of them.
const MAX_JOINT: usize = 12;

/// The containments among areas given as `(delimitation, area, departments)`. For every two
/// delimitations, their areas fall into connected groups (linked where they share a
/// department); within a group, every combination of one delimitation's areas is a container
/// for the other's areas that lie wholly inside it. (An area alone holding areas of another
/// delimitation is the common case: one that grew; several together are areas redrawn.) Parts
/// with all the container's departments still count: while one of them is suppressed, the
/// others' difference from the container reveals it. Only one part equal to the container is
/// left out, as its figure is the container's.
pub fn containments<D, A, Dep>(areas: &[Members<D, A, Dep>]) -> Vec<Containment<(D, A)>>
where
    D: Copy + Eq + Hash + Ord,
    A: Copy + Eq + Hash + Ord,
    Dep: Eq + Hash,
{
    let mut delimitations: Vec<D> = areas.iter().map(|x| x.0).collect();
    delimitations.sort_unstable();
    delimitations.dedup();
    let mut out = Vec::new();
    for (i, &v) in delimitations.iter().enumerate() {
        for &w in &delimitations[i + 1..] {
            let pair: Vec<&Members<D, A, Dep>> = areas.iter().filter(|x| x.0 == v || x.0 == w).collect();
            for group in connected_groups(&pair) {
                for (outer, inner) in [(w, v), (v, w)] {
                    let side = |d: D| -> Vec<&Members<D, A, Dep>> { group.iter().copied().filter(|x| x.0 == d).collect() };
                    out.extend(held(&side(outer), &side(inner)));
                }
            }
        }
    }
    out.sort_unstable_by(|a, b| (&a.containers, &a.parts).cmp(&(&b.containers, &b.parts)));
    out
}

/// The areas of two delimitations in groups linked by shared departments.
fn connected_groups<'a, D, A, Dep>(areas: &[&'a Members<D, A, Dep>]) -> Vec<Vec<&'a Members<D, A, Dep>>>
where
    D: Copy + Eq + Hash,
    Dep: Eq + Hash,
{
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..areas.len()).collect();
    // the first area seen with each department (of the other delimitation, or its own)
    let mut seen: HashMap<&Dep, usize> = HashMap::new();
    for (i, area) in areas.iter().enumerate() {
        for dep in &area.2 {
            match seen.get(dep) {
                Some(&j) => {
                    let (x, y) = (root(&mut parent, i), root(&mut parent, j));
                    parent[x] = y;
                }
                None => {
                    seen.insert(dep, i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<&Members<D, A, Dep>>> = HashMap::new();
    for (i, area) in areas.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(area);
    }
    groups.into_values().collect()
}

/// Within one connected group: each combination of `outer`'s areas with `inner`'s areas
/// wholly inside it (unless that is one area with the combination's very departments).
fn held<D, A, Dep>(outer: &[&Members<D, A, Dep>], inner: &[&Members<D, A, Dep>]) -> Vec<Containment<(D, A)>>
where
    D: Copy + Ord,
    A: Copy + Ord,
    Dep: Eq + Hash,
{
    if outer.is_empty() || inner.is_empty() {
        return Vec::new();
    }
    let combinations: Vec<Vec<usize>> = if outer.len() <= MAX_JOINT {
        (1u32..1 << outer.len()).map(|mask| (0..outer.len()).filter(|i| mask & (1 << i) != 0).collect()).collect()
    } else {
        (0..outer.len()).map(|i| vec![i]).chain([(0..outer.len()).collect()]).collect()
    };
    let mut out = Vec::new();
    for combination in combinations {
        let departments: std::collections::HashSet<&Dep> = combination.iter().flat_map(|&i| &outer[i].2).collect();
        let parts: Vec<&&Members<D, A, Dep>> = inner.iter().filter(|x| x.2.iter().all(|dep| departments.contains(dep))).collect();
        // one part with all the combination's departments has the same figure: nothing to learn
        let same = parts.len() == 1 && parts[0].2.len() == departments.len();
        if !parts.is_empty() && !same {
            let mut containers: Vec<(D, A)> = combination.iter().map(|&i| (outer[i].0, outer[i].1)).collect();
            let mut parts: Vec<(D, A)> = parts.iter().map(|x| (x.0, x.1)).collect();
            containers.sort_unstable();
            parts.sort_unstable();
            out.push(Containment { containers, parts });
        }
    }
    out
}

/// An area as the containment rule sees it: its figure's number, and its departments with the
/// municipality each lies in.
pub type PlacedArea<'a> = (usize, Vec<(&'a str, u16)>);

/// The figures of one dataset as the containment rule sees them, by the numbers the caller
/// gives its figures.
pub struct FigureLayout<'a> {
    /// Per delimitation, its areas: the area's figure and its departments with the
    /// municipality each lies in.
    pub areas: Vec<Vec<PlacedArea<'a>>>,
    /// A municipality's delivered figure of a level (`Municipality` or `SocialHousing`).
    pub level: &'a dyn Fn(Level, u16) -> Option<usize>,
    /// The social-housing sector without delimitation `d`'s areas, in a municipality.
    pub rest: &'a dyn Fn(usize, u16) -> Option<usize>,
    /// The country's figure.
    pub country: Option<usize>,
    /// The figure of the region a municipality belongs to.
    pub region: &'a dyn Fn(u16) -> Option<usize>,
}

/// Every containment among a dataset's figures, for [`secondary_suppressions`]:
/// - areas of one delimitation and the areas of another inside them ([`containments`]);
/// - a municipality's figure and its social-housing sector's, each holding the areas of a
///   delimitation that lie wholly in the municipality (all their departments there; areas.csv
///   names a municipality too, but an area may reach over a border), the country holding all
///   of them, and a region those in its municipalities; and each of these holding one
///   delimitation's areas together with another's that share no department with them;
/// - the sector holding its rest without delimitation d (sector − the departments of d's
///   areas in the municipality) and d's areas wholly in it; and d's areas reaching over the
///   border with that rest and those areas holding the sector (what the areas have beyond);
/// - the rest without d holding the areas of another delimitation e that lie wholly in the
///   municipality and share no department with d's areas there;
/// - the rest without e holding the rest without d, and d's areas there that share no
///   department with e's, when e's departments in the municipality are all d's;
/// - the rest without d with d's areas in a municipality holding the rest without e and e's
///   areas there (both are the sector), when no area of either reaches over its border;
/// - each area of e touching the municipality, and all of them together, holding the rest
///   without d (it is, when the sector has no departments beyond the plan areas).
///
/// The rest figures come after the others, and the caller ranks them first to go, so that
/// a derived figure never costs a figure that was published before it existed.
pub fn figure_containments(layout: &FigureLayout) -> Vec<Containment<usize>> {
    use std::collections::{BTreeMap, BTreeSet};
    let members: Vec<(usize, usize, Vec<&str>)> = layout
        .areas
        .iter()
        .enumerate()
        .flat_map(|(d, areas)| areas.iter().map(move |(n, deps)| (d, *n, deps.iter().map(|x| x.0).collect())))
        .collect();
    let mut out: Vec<Containment<usize>> = containments(&members)
        .into_iter()
        .map(|c| Containment {
            containers: c.containers.into_iter().map(|x| x.1).collect(),
            parts: c.parts.into_iter().map(|x| x.1).collect(),
        })
        .collect();
    // a reference level's figure → per delimitation, its areas inside it
    let mut held: BTreeMap<usize, Vec<(usize, Vec<usize>)>> = BTreeMap::new();
    // per delimitation: municipality → its areas lying wholly there
    let mut wholly: Vec<BTreeMap<u16, Vec<usize>>> = Vec::with_capacity(layout.areas.len());
    // per delimitation: municipality → the departments of its areas there
    let mut departments: Vec<BTreeMap<u16, BTreeSet<&str>>> = Vec::with_capacity(layout.areas.len());
    for (delimitation, areas) in layout.areas.iter().enumerate() {
        let mut inside: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        let mut deps: BTreeMap<u16, BTreeSet<&str>> = BTreeMap::new();
        for (n, members) in areas {
            let Some(&(_, first)) = members.first() else {
                continue;
            };
            if members.iter().all(|x| x.1 == first) {
                inside.entry(first).or_default().push(*n);
            }
            for &(dep, m) in members {
                deps.entry(m).or_default().insert(dep);
            }
        }
        for (unit, parts) in &inside {
            for level in [Level::Municipality, Level::SocialHousing] {
                if let Some(container) = (layout.level)(level, *unit) {
                    out.push(Containment { containers: vec![container], parts: parts.clone() });
                    held.entry(container).or_default().push((delimitation, parts.clone()));
                }
            }
        }
        let all: Vec<usize> = areas.iter().map(|x| x.0).collect();
        if let Some(container) = layout.country.filter(|_| !all.is_empty()) {
            out.push(Containment { containers: vec![container], parts: all.clone() });
            held.entry(container).or_default().push((delimitation, all));
        }
        // a region holds the areas lying wholly in its municipalities
        let mut by_region: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (unit, parts) in &inside {
            if let Some(region) = (layout.region)(*unit) {
                by_region.entry(region).or_default().extend(parts);
            }
        }
        for (container, mut parts) in by_region {
            parts.sort_unstable();
            out.push(Containment { containers: vec![container], parts: parts.clone() });
            held.entry(container).or_default().push((delimitation, parts));
        }
        wholly.push(inside);
        departments.push(deps);
    }
    // a level's figure holds the areas of one delimitation inside it with those of another
    // that share no department with them: the figure minus both is what neither has
    let departments_of: HashMap<usize, &[(&str, u16)]> = layout.areas.iter().flatten().map(|(n, deps)| (*n, deps.as_slice())).collect();
    for (container, lists) in &held {
        for (d, parts) in lists {
            let taken: BTreeSet<&str> = parts.iter().flat_map(|n| departments_of[n].iter().map(|x| x.0)).collect();
            for (_, others) in lists.iter().filter(|(e, _)| e != d) {
                let beside: Vec<usize> =
                    others.iter().copied().filter(|n| departments_of[n].iter().all(|x| !taken.contains(x.0))).collect();
                if !beside.is_empty() {
                    let mut both: Vec<usize> = parts.iter().copied().chain(beside).collect();
                    both.sort_unstable();
                    out.push(Containment { containers: vec![*container], parts: both });
                }
            }
        }
    }
    rest_containments(layout, &wholly, &departments, &mut out);
    out
}

/// The containments of figure_containments that take in a rest figure (see there), after the
/// others: `wholly` gives per delimitation each municipality's areas lying wholly in it, and
/// `departments` the departments of its areas there.
fn rest_containments(
    layout: &FigureLayout,
    wholly: &[std::collections::BTreeMap<u16, Vec<usize>>],
    departments: &[std::collections::BTreeMap<u16, std::collections::BTreeSet<&str>>],
    out: &mut Vec<Containment<usize>>,
) {
    use std::collections::BTreeSet;
    let units: BTreeSet<u16> = departments.iter().flat_map(|d| d.keys().copied()).collect();
    // how many of delimitation x's departments in a municipality are in its areas lying wholly there
    let wholly_departments = |x: usize, unit: u16| -> usize {
        let inside = wholly[x].get(&unit).map_or(&[][..], Vec::as_slice);
        layout.areas[x].iter().filter(|a| inside.contains(&a.0)).map(|a| a.1.len()).sum()
    };
    let none = BTreeSet::new();
    for (d, inside) in wholly.iter().enumerate() {
        for &unit in &units {
            let Some(rest) = (layout.rest)(d, unit) else {
                continue;
            };
            let mine = inside.get(&unit).map_or(&[][..], Vec::as_slice);
            if let Some(sector) = (layout.level)(Level::SocialHousing, unit) {
                out.push(Containment { containers: vec![sector], parts: [rest].into_iter().chain(mine.iter().copied()).collect() });
                // the sector minus the rest and the areas wholly inside is what d's areas
                // reaching over the border have here: those areas minus it, what they have
                // beyond the border
                let crossing: Vec<usize> = layout.areas[d]
                    .iter()
                    .filter(|a| a.1.iter().any(|x| x.1 == unit) && a.1.iter().any(|x| x.1 != unit))
                    .map(|a| a.0)
                    .collect();
                if !crossing.is_empty() {
                    let mut containers: Vec<usize> = crossing.into_iter().chain([rest]).chain(mine.iter().copied()).collect();
                    containers.sort_unstable();
                    out.push(Containment { containers, parts: vec![sector] });
                }
            }
            let deps_d = departments[d].get(&unit).unwrap_or(&none);
            for (e, other) in wholly.iter().enumerate().filter(|(e, _)| *e != d) {
                let in_e = |n: usize| layout.areas[e].iter().find(|x| x.0 == n).map(|x| &x.1);
                let outside_d: Vec<usize> = other
                    .get(&unit)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&n| in_e(n).is_some_and(|deps| deps.iter().all(|x| !deps_d.contains(x.0))))
                    .collect();
                if !outside_d.is_empty() {
                    out.push(Containment { containers: vec![rest], parts: outside_d });
                }
                // the rest without d and d's areas make the sector as the rest without e and
                // e's areas do, when no area reaches over the border: either side minus the
                // other's published figures is what the other side withholds
                let crosses = |x: usize| departments[x].get(&unit).is_some_and(|deps| deps.len() != wholly_departments(x, unit));
                if !crosses(d) && !crosses(e) {
                    let theirs = other.get(&unit).map_or(&[][..], Vec::as_slice);
                    let parts: Vec<usize> = (layout.rest)(e, unit).into_iter().chain(theirs.iter().copied()).collect();
                    if !parts.is_empty() {
                        out.push(Containment { containers: [rest].into_iter().chain(mine.iter().copied()).collect(), parts });
                    }
                }
                // a sector made of nothing but plan departments leaves a rest that is a piece
                // of another delimitation's areas: each of them touching the municipality, and
                // all of them together, may hold it (where it is not inside, the remainder is
                // no group's figure and nothing happens)
                let touching: Vec<usize> = layout.areas[e].iter().filter(|a| a.1.iter().any(|x| x.1 == unit)).map(|a| a.0).collect();
                for &x in &touching {
                    out.push(Containment { containers: vec![x], parts: vec![rest] });
                }
                if touching.len() > 1 {
                    out.push(Containment { containers: touching.clone(), parts: vec![rest] });
                }
                let deps_e = departments[e].get(&unit).unwrap_or(&none);
                if let Some(rest_e) = (layout.rest)(e, unit).filter(|_| deps_e.is_subset(deps_d) && deps_e != deps_d) {
                    let in_d = |n: usize| layout.areas[d].iter().find(|x| x.0 == n).map(|x| &x.1);
                    let beside: Vec<usize> =
                        mine.iter().copied().filter(|&n| in_d(n).is_some_and(|deps| deps.iter().all(|x| !deps_e.contains(x.0)))).collect();
                    out.push(Containment { containers: vec![rest_e], parts: [rest].into_iter().chain(beside).collect() });
                }
            }
        }
    }
}

/// Per group of municipalities (one, or several linked by areas reaching over their
/// borders), the figures that touch it as sets of members, for [`guard_rests`]: its sectors,
/// their rests, and every area with a department there. Each sector's persons outside every
/// plan area are one more member (the first ones), shared by the sector and its rests.
#[derive(Debug, Clone, PartialEq)]
pub struct RestGroup {
    /// (figure, its members as indexes into the group's members)
    pub figures: Vec<(usize, Vec<u32>)>,
    pub rests: Vec<usize>,
    /// Members below this stand for the persons outside the plan areas.
    pub outside: u32,
}

/// The groups [`guard_rests`] checks.
pub fn rest_groups<'a>(layout: &FigureLayout<'a>) -> Vec<RestGroup> {
    use std::collections::{BTreeMap, BTreeSet};
    // municipalities linked by an area reaching over their border are one group
    let mut link: BTreeMap<u16, u16> = BTreeMap::new();
    fn root(link: &mut BTreeMap<u16, u16>, mut u: u16) -> u16 {
        while let Some(&p) = link.get(&u).filter(|&&p| p != u) {
            u = p;
        }
        u
    }
    for areas in &layout.areas {
        for (_, deps) in areas {
            for x in deps {
                link.entry(x.1).or_insert(x.1);
            }
            if let Some(first) = deps.first() {
                for x in &deps[1..] {
                    let (a, b) = (root(&mut link, first.1), root(&mut link, x.1));
                    if a != b {
                        link.insert(a.max(b), a.min(b));
                    }
                }
            }
        }
    }
    let units: Vec<u16> = link.keys().copied().collect();
    let mut groups: BTreeMap<u16, Vec<u16>> = BTreeMap::new();
    for u in units {
        let r = root(&mut link, u);
        groups.entry(r).or_default().push(u);
    }
    let mut out = Vec::new();
    for units in groups.into_values() {
        let sectors: Vec<(u16, usize)> = units.iter().filter_map(|&u| (layout.level)(Level::SocialHousing, u).map(|s| (u, s))).collect();
        if sectors.is_empty() {
            continue;
        }
        let outside = units.len() as u32;
        let mut index: BTreeMap<&'a str, u32> = BTreeMap::new();
        let mut figures: Vec<(usize, Vec<u32>)> = Vec::new();
        // per municipality: its planned members, in all and by delimitation
        let mut planned: BTreeMap<u16, BTreeSet<u32>> = BTreeMap::new();
        let mut by_delimitation: BTreeMap<(usize, u16), BTreeSet<u32>> = BTreeMap::new();
        for (d, areas) in layout.areas.iter().enumerate() {
            for (f, deps) in areas.iter().filter(|a| a.1.iter().any(|x| units.contains(&x.1))) {
                let mut members = Vec::with_capacity(deps.len());
                for &(dep, unit) in deps {
                    let next = outside + index.len() as u32;
                    let m = *index.entry(dep).or_insert(next);
                    planned.entry(unit).or_default().insert(m);
                    by_delimitation.entry((d, unit)).or_default().insert(m);
                    members.push(m);
                }
                figures.push((*f, members));
            }
        }
        let none = BTreeSet::new();
        let mut rests = Vec::new();
        for (u, &unit) in units.iter().enumerate() {
            let Some(&(_, sector)) = sectors.iter().find(|s| s.0 == unit) else { continue };
            let u = u as u32;
            let here = planned.get(&unit).unwrap_or(&none);
            figures.push((sector, [u].into_iter().chain(here.iter().copied()).collect()));
            for d in 0..layout.areas.len() {
                if let Some(rest) = (layout.rest)(d, unit) {
                    let mine = by_delimitation.get(&(d, unit)).unwrap_or(&none);
                    figures.push((rest, [u].into_iter().chain(here.difference(mine).copied()).collect()));
                    rests.push(rest);
                }
            }
        }
        out.push(RestGroup { figures, rests, outside });
    }
    out
}

/// The rest figures to withhold besides [`secondary_suppressions`]' answer: in each
/// municipality, while a withheld figure (one with data that is not published) is a linear
/// combination of published figures there — sums, differences, any rational multiples — and
/// would not be one without the published rests, one more rest (the first by number) is
/// withheld. `published` says what is published after secondary suppression.
pub fn guard_rests(groups: &[RestGroup], counts: &[Option<Counts>], published: &dyn Fn(usize) -> bool) -> Vec<usize> {
    let mut out = Vec::new();
    for g in groups {
        let width = g.figures.iter().flat_map(|f| f.1.iter()).max().map_or(0, |&m| m as usize + 1);
        // readings of the sectors: each with persons outside the plan areas or without any (a
        // municipality whose social housing is all plan areas); a figure revealed under any
        // reading is revealed. Every combination for up to four municipalities in a group,
        // beyond that all with and all without.
        let k = g.outside;
        let readings: Vec<u32> = if k <= 4 { (0..1u32 << k).collect() } else { vec![0, (1u32 << k.min(31)) - 1] };
        let vector = |members: &[u32], present: u32| {
            let mut v = vec![0.0; width];
            for &m in members.iter().filter(|&&m| m >= k || present & (1 << m) != 0) {
                v[m as usize] = 1.0;
            }
            v
        };
        let is_hidden = |f: usize, withheld_here: &[usize]| counts[f].is_some() && (!published(f) || withheld_here.contains(&f));
        if !g.figures.iter().any(|(f, _)| is_hidden(*f, &[])) {
            continue;
        }
        let shown = |with_rests: bool, withheld_here: &[usize], present: u32| -> Span {
            Span::new(
                g.figures
                    .iter()
                    .filter(|(f, _)| published(*f) && !withheld_here.contains(f) && (with_rests || !g.rests.contains(f)))
                    .map(|(_, m)| vector(m, present))
                    .collect(),
            )
        };
        let plain: Vec<Span> = readings.iter().map(|&r| shown(false, &[], r)).collect();
        let mut withheld_here: Vec<usize> = Vec::new();
        loop {
            let spans: Vec<Span> = readings.iter().map(|&r| shown(true, &withheld_here, r)).collect();
            // (a rest withheld here is one more figure to keep hidden)
            let mut hidden = g.figures.iter().filter(|(f, _)| is_hidden(*f, &withheld_here));
            let revealing = hidden.any(|(_, h)| {
                readings.iter().enumerate().any(|(i, &r)| {
                    let v = vector(h, r);
                    v.iter().any(|x| *x != 0.0) && spans[i].contains(&v) && !plain[i].contains(&v)
                })
            });
            let next = g.rests.iter().copied().find(|r| published(*r) && !withheld_here.contains(r));
            match (revealing, next) {
                (true, Some(r)) => withheld_here.push(r),
                _ => break,
            }
        }
        out.extend(withheld_here);
    }
    out.sort_unstable();
    out
}

/// For one indicator and year: every figure withheld although the rules pass it
/// ([`secondary_suppressions`], then [`guard_rests`]), less those the published figures give
/// already ([`MemberSets::futile`]). Sorted.
pub fn withheld(
    kind: Kind,
    disclosure: &Disclosure,
    counts: &[Option<Counts>],
    containments: &[Containment<usize>],
    members: &MemberSets,
    rank: impl Fn(usize) -> u8,
) -> Vec<usize> {
    let mut out = secondary_suppressions(kind, disclosure, counts, containments, rank, Some(members));
    let passed = |f: usize| counts[f].is_some_and(|c| !disclosure.suppresses(kind, c)) && out.binary_search(&f).is_err();
    let guarded = guard_rests(&members.groups, counts, &passed);
    if !guarded.is_empty() {
        out.extend(guarded);
        out.sort_unstable();
        out.dedup();
    }
    let shown = |f: usize| counts[f].is_some_and(|c| !disclosure.suppresses(kind, c)) && out.binary_search(&f).is_err();
    let given = members.futile(&shown, &out);
    out.retain(|f| given.binary_search(f).is_err());
    out
}

/// The figures of the [`RestGroup`]s as sets of members: to tell whether the published
/// figures give a figure already (by a linear combination), and whether a containment really
/// holds. The sector's persons outside every plan area count as present, as the service
/// cannot tell from its figures that there are none (where there are none, more is given, and
/// some figures may stay withheld for nothing).
pub struct MemberSets {
    groups: Vec<RestGroup>,
    /// figure → (its group, its members)
    of: HashMap<usize, (usize, Vec<u32>)>,
}

impl MemberSets {
    pub fn new(groups: Vec<RestGroup>) -> MemberSets {
        let of = groups.iter().enumerate().flat_map(|(i, g)| g.figures.iter().map(move |(f, m)| (*f, (i, m.clone())))).collect();
        MemberSets { groups, of }
    }

    fn width(&self, group: usize) -> usize {
        self.groups[group].figures.iter().flat_map(|f| f.1.iter()).max().map_or(0, |&m| m as usize + 1)
    }

    fn vector(members: &[u32], width: usize) -> Vec<f64> {
        let mut v = vec![0.0; width];
        for &m in members {
            v[m as usize] = 1.0;
        }
        v
    }

    /// The span of a group's published figures.
    fn span(&self, group: usize, published: &dyn Fn(usize) -> bool) -> Span {
        let width = self.width(group);
        Span::new(self.groups[group].figures.iter().filter(|(f, _)| published(*f)).map(|(_, m)| Self::vector(m, width)).collect())
    }

    /// Whether the other published figures give `f` (false for a figure of no group: not
    /// known). A figure that is no rest is judged by the figures that are none either, as if
    /// the rests did not exist: what becomes of it does not depend on them.
    pub fn given(&self, f: usize, published: &dyn Fn(usize) -> bool) -> bool {
        let Some((g, m)) = self.of.get(&f) else { return false };
        let rests = &self.groups[*g].rests;
        let judged_alone = !rests.contains(&f);
        let others = |x: usize| x != f && published(x) && !(judged_alone && rests.contains(&x));
        self.span(*g, &others).contains(&Self::vector(m, self.width(*g)))
    }

    /// Whether the containers' members hold the parts' (each side disjoint); `None` when its
    /// figures are not all of one group. Some containments hold only where a sector has no
    /// persons beyond the plan areas (see [`figure_containments`]): here they do not.
    pub fn holds(&self, c: &Containment<usize>) -> Option<bool> {
        let group = self.of.get(c.containers.first()?)?.0;
        let mut count: HashMap<u32, (u32, u32)> = HashMap::new();
        for (side, figures) in [(0, &c.containers), (1, &c.parts)] {
            for f in figures {
                let (g, members) = self.of.get(f)?;
                if *g != group {
                    return None;
                }
                for m in members {
                    let e = count.entry(*m).or_default();
                    if side == 0 { e.0 += 1 } else { e.1 += 1 }
                }
            }
        }
        Some(count.values().all(|&(a, b)| a <= 1 && b <= a))
    }

    /// The withheld figures (of `withheld`, sorted) that the published figures of their group
    /// give already (one that is no rest, those that are none: see `given`): withholding them
    /// hides nothing (a rest that is the sector minus published areas, an earlier area that is
    /// a published area of the same departments), so they are published after all. Publishing them changes nothing anyone can work out, as each is in the span of what
    /// is published; and so all of them go at once.
    pub fn futile(&self, published: &dyn Fn(usize) -> bool, withheld: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, g) in self.groups.iter().enumerate() {
            if !g.figures.iter().any(|(f, _)| withheld.binary_search(f).is_ok()) {
                continue;
            }
            // (a figure that is no rest by the others that are none, as in `given`)
            let width = self.width(i);
            let all = self.span(i, published);
            let plain = self.span(i, &|f| published(f) && !g.rests.contains(&f));
            out.extend(
                g.figures
                    .iter()
                    .filter(|(f, m)| {
                        let span = if g.rests.contains(f) { &all } else { &plain };
                        withheld.binary_search(f).is_ok() && span.contains(&Self::vector(m, width))
                    })
                    .map(|(f, _)| *f),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The span of some vectors, in row echelon form.
struct Span {
    rows: Vec<(usize, Vec<f64>)>,
}

impl Span {
    fn new(vectors: Vec<Vec<f64>>) -> Span {
        let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
        for v in vectors {
            if let Some(r) = Span::reduce(&rows, v) {
                rows.push(r);
            }
        }
        Span { rows }
    }

    /// The vector less its components along the rows, with its pivot; None when nothing is left.
    fn reduce(rows: &[(usize, Vec<f64>)], mut v: Vec<f64>) -> Option<(usize, Vec<f64>)> {
        for (pivot, row) in rows {
            let factor = v[*pivot];
            if factor.abs() > 1e-9 {
                for (x, y) in v.iter_mut().zip(row) {
                    *x -= factor * y;
                }
            }
        }
        let pivot = v.iter().position(|x| x.abs() > 1e-9)?;
        let p = v[pivot];
        for x in v.iter_mut() {
            *x /= p;
        }
        // (each row is reduced against the ones before it, so reducing in this order works)
        Some((pivot, v))
    }

    fn contains(&self, v: &[f64]) -> bool {
        let mut v = v.to_vec();
        for (pivot, row) in &self.rows {
            let factor = v[*pivot];
            if factor.abs() > 1e-9 {
                for (x, y) in v.iter_mut().zip(row) {
                    *x -= factor * y;
                }
            }
        }
        v.iter().all(|x| x.abs() <= 1e-9)
    }
}

/// For one indicator and year: the figures that must be withheld although the rules pass
/// them, because a difference of published figures would reveal one the rules suppress.
/// Figures are numbered `0..counts.len()`; `counts[f]` is None for a figure without data.
/// `rank` orders the candidates for withholding (lower goes first; among equals a container
/// before a part, and the largest denominator first, whose withholding leaves the biggest
/// remainder, then the lower number). With `members`, among the candidates of the first rank
/// one that the other published figures do not give already goes, where the containment
/// really holds: withholding one they give would hide nothing. (Where none of that rank is
/// left, or the containment holds only for a sector of nothing but plan areas, the first goes
/// as before: a figure of a kind published before is never withheld for the sake of a derived
/// one, and [`withheld`] publishes a futile one again.) The answer is sorted, and holds no
/// figure the rules suppress anyway.
pub fn secondary_suppressions(
    kind: Kind,
    disclosure: &Disclosure,
    counts: &[Option<Counts>],
    containments: &[Containment<usize>],
    rank: impl Fn(usize) -> u8,
    members: Option<&MemberSets>,
) -> Vec<usize> {
    let mut published: Vec<bool> = counts.iter().map(|c| c.is_some_and(|c| !disclosure.suppresses(kind, c))).collect();
    let mut secondary = Vec::new();
    let mut containers: Vec<(usize, Counts)> = Vec::new();
    let mut parts: Vec<(usize, Counts)> = Vec::new();
    loop {
        let mut changed = false;
        for c in containments {
            // a published figure's counts (published implies it has data)
            let shown = |f: usize| counts[f].filter(|_| published[f]).map(|x| (f, x));
            // the containers' sum is known only while all of them are published
            containers.clear();
            containers.extend(c.containers.iter().map_while(|&f| shown(f)));
            if containers.len() < c.containers.len() {
                continue;
            }
            parts.clear();
            parts.extend(c.parts.iter().filter_map(|&p| shown(p)));
            if parts.is_empty() {
                continue;
            }
            let mut rest = Counts::new(0.0, 0.0);
            for (_, x) in &containers {
                rest.numerator += x.numerator;
                rest.denominator += x.denominator;
            }
            for (_, part) in &parts {
                rest.numerator -= part.numerator;
                rest.denominator -= part.denominator;
            }
            // nothing left over (every department with data has a positive denominator), or a
            // remainder that is no group's figure, as when a delivered level and the areas'
            // departments disagree
            let inconsistent = rest.denominator < 0.0 || (kind != Kind::Mean && rest.numerator < 0.0);
            if rest.denominator == 0.0 || inconsistent || !disclosure.suppresses(kind, rest) {
                continue;
            }
            let mut candidates: Vec<(u8, u8, f64, usize)> = containers
                .iter()
                .map(|(f, x)| (rank(*f), 0, -x.denominator, *f))
                .chain(parts.iter().map(|(p, part)| (rank(*p), 1, -part.denominator, *p)))
                .collect();
            candidates.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)).then(x.3.cmp(&y.3)));
            let shown = |f: usize| published[f];
            let first = candidates[0];
            let victim = match members {
                Some(m) if m.holds(c) == Some(true) => {
                    candidates.iter().take_while(|x| x.0 == first.0).find(|x| !m.given(x.3, &shown)).unwrap_or(&first).3
                }
                _ => first.3,
            };
            published[victim] = false;
            secondary.push(victim);
            changed = true;
        }
        if !changed {
            secondary.sort_unstable();
            return secondary;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn counts(n: f64, d: f64) -> Counts {
        Counts::new(n, d)
    }

    /// (delimitation, area): delimitation 0 is the default one, ranked last; 9 stands for a
    /// reference level, ranked between.
    type N = (u8, u8);
    fn rank(n: N) -> u8 {
        match n.0 {
            0 => 2,
            9 => 1,
            _ => 0,
        }
    }

    /// Numbers the figures in their order, as the service does, and answers with the names.
    fn withheld(kind: Kind, containment: &[Containment<N>], figures: &[(N, Counts)]) -> HashSet<N> {
        let mut names: Vec<N> =
            figures.iter().map(|f| f.0).chain(containment.iter().flat_map(|c| c.parts.iter().chain(&c.containers).copied())).collect();
        names.sort_unstable();
        names.dedup();
        let number = |n: &N| names.binary_search(n).unwrap();
        let mut counts = vec![None; names.len()];
        for (n, c) in figures {
            counts[number(n)] = Some(*c);
        }
        let containment: Vec<Containment<usize>> = containment
            .iter()
            .map(|c| Containment { containers: c.containers.iter().map(number).collect(), parts: c.parts.iter().map(number).collect() })
            .collect();
        let got = secondary_suppressions(kind, &Disclosure::default(), &counts, &containment, |f| rank(names[f]), None);
        got.into_iter().map(|f| names[f]).collect()
    }

    #[test]
    fn finds_areas_wholly_inside_another() {
        let areas: Vec<(u8, u8, Vec<&str>)> = vec![
            (0, 1, vec!["a", "b", "c"]),
            (0, 2, vec!["d", "e"]),
            (1, 1, vec!["a", "b"]), // grew by c
            (1, 2, vec!["d", "e"]), // the same: nothing revealed
            (1, 3, vec!["c", "x"]), // overlaps area 0/1 without lying inside it
            (2, 7, vec!["a"]),      // inside 0/1 and 1/1
            (2, 8, vec!["b"]),      // inside 0/1 and 1/1
        ];
        assert_eq!(
            containments(&areas),
            vec![
                Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] },
                Containment { containers: vec![(0, 1)], parts: vec![(2, 7), (2, 8)] },
                // together the same departments: while one part is suppressed, the other reveals it
                Containment { containers: vec![(1, 1)], parts: vec![(2, 7), (2, 8)] },
                // redrawn: two areas of delimitation 1 together hold area 0/1, and x besides
                Containment { containers: vec![(1, 1), (1, 3)], parts: vec![(0, 1)] },
            ]
        );
    }

    #[test]
    fn a_small_difference_withholds_the_lower_ranked_figure() {
        // the default area grew by a department of 3 persons: the earlier area goes
        let grew = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        let got = withheld(Kind::Share, &grew, &[((0, 1), counts(41.0, 203.0)), ((1, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // the earlier area was the wider one: it goes as the container
        let shrank = [Containment { containers: vec![(1, 1)], parts: vec![(0, 1)] }];
        let got = withheld(Kind::Share, &shrank, &[((1, 1), counts(41.0, 203.0)), ((0, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // between equals the container goes
        let other = [Containment { containers: vec![(1, 1)], parts: vec![(2, 1)] }];
        let got = withheld(Kind::Share, &other, &[((1, 1), counts(41.0, 203.0)), ((2, 1), counts(40.0, 200.0))]);
        assert_eq!(got, HashSet::from([(1, 1)]));
        // a reference level holding the default delimitation's areas goes itself; holding an
        // earlier delimitation's areas, those go first
        let sector = [Containment { containers: vec![(9, 1)], parts: vec![(0, 1), (0, 2)] }];
        let figures = [((9, 1), counts(83.0, 460.0)), ((0, 1), counts(40.0, 200.0)), ((0, 2), counts(40.0, 250.0))];
        assert_eq!(withheld(Kind::Rate, &sector, &figures), HashSet::from([(9, 1)]));
        let sector = [Containment { containers: vec![(9, 1)], parts: vec![(1, 1), (1, 2)] }];
        let figures = [((9, 1), counts(83.0, 460.0)), ((1, 1), counts(40.0, 200.0)), ((1, 2), counts(40.0, 250.0))];
        assert_eq!(withheld(Kind::Rate, &sector, &figures), HashSet::from([(1, 2)]), "the largest part, leaving 43 in 260");
    }

    #[test]
    fn differences_the_rules_pass_are_left_alone() {
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        for (whole, part) in [
            (counts(60.0, 250.0), counts(40.0, 200.0)), // 20 of 50
            (counts(40.0, 230.0), counts(40.0, 200.0)), // 0 of 30
            (counts(40.0, 200.0), counts(40.0, 200.0)), // nothing left over
            (counts(30.0, 190.0), counts(40.0, 200.0)), // a remainder that is no group's figure
        ] {
            let got = withheld(Kind::Share, &containment, &[((0, 1), whole), ((1, 1), part)]);
            assert!(got.is_empty(), "{whole:?} {part:?}");
        }
    }

    #[test]
    fn each_kind_by_its_own_rules() {
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        // a difference of 25 persons with 2 convictions: suppressed for a rate, fine for a mean
        let figures = [((0, 1), counts(12.0, 225.0)), ((1, 1), counts(10.0, 200.0))];
        assert_eq!(withheld(Kind::Rate, &containment, &figures), HashSet::from([(1, 1)]));
        assert!(withheld(Kind::Mean, &containment, &figures).is_empty());
        // a mean over 3 pupils is revealed by the difference; a negative sum is a mean's right
        let figures = [((0, 1), counts(176.7, 33.0)), ((1, 1), counts(180.0, 30.0))];
        assert_eq!(withheld(Kind::Mean, &containment, &figures), HashSet::from([(1, 1)]));
    }

    #[test]
    fn withholding_is_repeated_until_no_small_difference_is_left() {
        // the default area holds two earlier ones and a department of 30 persons with 2 in the
        // numerator: whichever parts stay published, what is left over has 2 in the numerator
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1), (1, 2)] }];
        let figures = [((0, 1), counts(7.0, 75.0)), ((1, 1), counts(5.0, 20.0)), ((1, 2), counts(0.0, 25.0))];
        assert_eq!(withheld(Kind::Share, &containment, &figures), HashSet::from([(1, 1), (1, 2)]));
        // one withheld part can be enough: then the other stays
        let figures = [((0, 1), counts(52.0, 124.0)), ((1, 1), counts(0.0, 20.0)), ((1, 2), counts(50.0, 100.0))];
        assert_eq!(withheld(Kind::Share, &containment, &figures), HashSet::from([(1, 2)]));
    }

    #[test]
    fn parts_the_rules_suppress_are_not_subtracted() {
        // (1,1) is suppressed by the rules (15 persons); the difference of published figures
        // is then (0,1) alone, which is published anyway
        let containment = [Containment { containers: vec![(0, 1)], parts: vec![(1, 1)] }];
        let got = withheld(Kind::Share, &containment, &[((0, 1), counts(9.0, 33.0)), ((1, 1), counts(7.0, 15.0))]);
        assert!(got.is_empty());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Counts of a group with data: small and large denominators, numerators near the rules'
        /// edges.
        fn group() -> impl Strategy<Value = Counts> {
            (prop_oneof![1u32..25, 25u32..400], 0u32..8, any::<bool>()).prop_map(|(d, n, high)| {
                let n = if high { d.saturating_sub(n) } else { n.min(d) };
                Counts::new(n as f64, d as f64)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

            /// Departments lie in two municipalities; one or two delimitations (0, the
            /// protected one, and 1) cut some of them into areas, an area reaching over the
            /// border now and then; each municipality's sector holds all its departments, and
            /// the rest figures are the sector minus each delimitation's departments there.
            /// After secondary suppression, in each municipality no sum or difference of
            /// published figures (its sector, its rests, the areas with a department there) that
            /// takes in a rest figure has the departments of a withheld figure that those
            /// without a rest do not give already, and only rest figures are withheld because
            /// of them.
            #[test]
            fn no_sum_or_difference_with_the_rest_reveals_a_withheld_figure(
                departments in proptest::collection::vec((group(), 0u16..2), 2..=8),
                cuts in proptest::collection::vec(proptest::collection::vec(0u8..3, 8), 1..=2),
                kind in prop_oneof![Just(Kind::Share), Just(Kind::Rate), Just(Kind::Mean)],
            ) {
                use std::collections::HashMap;
                use crate::domain::figures::rest_of;
                // a cut: 0 leaves the department out of every area, 1 adds it to the current
                // area (starting one if there is none), 2 starts a new area
                let mut areas: Vec<(usize, Vec<usize>)> = Vec::new(); // (delimitation, departments)
                for (delimitation, cut) in cuts.iter().enumerate() {
                    let mut open = false;
                    for (dep, &c) in cut.iter().enumerate().take(departments.len()) {
                        match c {
                            0 => open = false,
                            1 if open => areas.last_mut().unwrap().1.push(dep),
                            _ => {
                                areas.push((delimitation, vec![dep]));
                                open = true;
                            }
                        }
                    }
                }
                let delimitations = cuts.len();
                let sum = |deps: &mut dyn Iterator<Item = usize>| deps.fold(Counts::default(), |acc, i| {
                    Counts::new(acc.numerator + departments[i].0.numerator, acc.denominator + departments[i].0.denominator)
                });
                // figures: the areas, the two sectors, then the rests by delimitation and municipality
                let sector = |m: u16| areas.len() + m as usize;
                let rest = |d: usize, m: u16| areas.len() + 2 + d * 2 + m as usize;
                let total = areas.len() + 2 + delimitations * 2;
                let mut vectors: Vec<[i8; 8]> = vec![[0; 8]; total];
                let mut counts: Vec<Option<Counts>> = vec![None; total];
                for (f, (_, deps)) in areas.iter().enumerate() {
                    for &dep in deps {
                        vectors[f][dep] = 1;
                    }
                    counts[f] = Some(sum(&mut deps.iter().copied()));
                }
                for m in 0..2u16 {
                    let mine: Vec<usize> = (0..departments.len()).filter(|&i| departments[i].1 == m).collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let whole = sum(&mut mine.iter().copied());
                    counts[sector(m)] = Some(whole);
                    for &dep in &mine {
                        vectors[sector(m)][dep] = 1;
                    }
                    for d in 0..delimitations {
                        let planned: Vec<usize> = areas.iter().filter(|a| a.0 == d).flat_map(|a| a.1.iter().copied()).filter(|&i| departments[i].1 == m).collect();
                        counts[rest(d, m)] = rest_of(kind, whole, sum(&mut planned.iter().copied()));
                        for &dep in mine.iter().filter(|i| !planned.contains(i)) {
                            vectors[rest(d, m)][dep] = 1;
                        }
                    }
                }
                let names: Vec<String> = (0..departments.len()).map(|i| format!("d{i}")).collect();
                let layout_areas: Vec<Vec<PlacedArea>> = (0..delimitations)
                    .map(|d| areas.iter().enumerate().filter(|(_, a)| a.0 == d)
                        .map(|(f, a)| (f, a.1.iter().map(|&i| (names[i].as_str(), departments[i].1)).collect())).collect())
                    .collect();
                let level = |level: Level, m: u16| (level == Level::SocialHousing && counts[sector(m)].is_some()).then(|| sector(m));
                let rest_figure = |d: usize, m: u16| counts[sector(m)].is_some().then(|| rest(d, m));
                let layout = FigureLayout { areas: layout_areas, level: &level, rest: &rest_figure, country: None, region: &|_| None };
                let containments = figure_containments(&layout);
                let is_rest = |f: usize| f >= areas.len() + 2;
                let rank = |f: usize| if is_rest(f) { 0 } else if f >= areas.len() { 2 } else if areas[f].0 == 0 { 3 } else { 1 };
                let rules = Disclosure::default();
                let members = MemberSets::new(rest_groups(&layout));
                let withheld = crate::domain::differencing::withheld(kind, &rules, &counts, &containments, &members, rank);
                let without_rest: Vec<Containment<usize>> =
                    containments.iter().filter(|c| !c.containers.iter().chain(&c.parts).any(|&f| is_rest(f))).cloned().collect();
                let before = secondary_suppressions(kind, &rules, &counts, &without_rest, rank, Some(&members));
                let published = |f: usize| counts[f].is_some_and(|c| !rules.suppresses(kind, c)) && withheld.binary_search(&f).is_err();
                // with a coordinate for each sector's persons outside the plan areas, which the
                // service cannot tell apart from none (see `futile`)
                let outside = |f: usize| -> Vec<f64> {
                    let mut v: Vec<f64> = vectors[f].iter().map(|&x| f64::from(x)).collect();
                    v.extend([0.0, 0.0]);
                    for m in 0..2u16 {
                        if f == sector(m) || (0..delimitations).any(|d| f == rest(d, m)) {
                            v[8 + m as usize] = 1.0;
                        }
                    }
                    v
                };
                // a sector minus one delimitation's published areas wholly inside it and
                // another's that share no department with the first's leaves no group the
                // rules suppress (where no area reaches over the border: see the module's notes)
                let crossing = areas.iter().any(|a| a.1.iter().any(|&i| departments[i].1 != departments[a.1[0]].1));
                for m in (0..2u16).filter(|_| !crossing) {
                    if !published(sector(m)) {
                        continue;
                    }
                    let inside = |d: usize| -> Vec<usize> {
                        (0..areas.len()).filter(|&f| areas[f].0 == d && areas[f].1.iter().all(|&i| departments[i].1 == m)).collect()
                    };
                    for d in 0..delimitations {
                        for e in (0..delimitations).filter(|&e| e != d) {
                            let taken: Vec<usize> = inside(d).iter().flat_map(|&f| areas[f].1.clone()).collect();
                            let beside: Vec<usize> = inside(e).into_iter().filter(|&f| areas[f].1.iter().all(|i| !taken.contains(i))).collect();
                            let parts: Vec<usize> = inside(d).into_iter().chain(beside.iter().copied()).filter(|&f| published(f)).collect();
                            if beside.iter().all(|&f| !published(f)) {
                                continue;
                            }
                            let left = parts.iter().fold(counts[sector(m)].unwrap(), |acc, &f| {
                                let c = counts[f].unwrap();
                                Counts::new(acc.numerator - c.numerator, acc.denominator - c.denominator)
                            });
                            prop_assert!(left.denominator <= 0.0 || !rules.suppresses(kind, left),
                                "sector {m} minus {parts:?} (delimitations {d} and {e}) leaves {left:?}; withheld {withheld:?} areas {areas:?} deps {departments:?} counts {counts:?}");
                        }
                    }
                }
                let given = Span::new((0..total).filter(|&f| published(f)).map(outside).collect());
                for &f in &withheld {
                    prop_assert!(!given.contains(&outside(f)), "figure {f} is withheld although the published figures give it: withheld {withheld:?}, vectors {vectors:?}");
                }
                prop_assert!(before.iter().all(|f| withheld.contains(f) || given.contains(&outside(*f))),
                    "a figure withheld before the rest existed stays withheld (unless published figures give it, and then withholding it hides nothing)");
                for f in withheld.iter().filter(|f| !before.contains(f)) {
                    prop_assert!(is_rest(*f), "only rest figures are withheld because of the rest: {f}");
                }
                let hidden: Vec<usize> = (0..total).filter(|&f| counts[f].is_some() && !published(f)).collect();
                // every published figure of both municipalities (the two are one when an area
                // reaches over the border)
                {
                    let shown: Vec<usize> = (0..total).filter(|&f| published(f)).collect();
                    let m = "either";
                    // meet in the middle: the non-rest figures on one side, the rests on the other
                    let combine = |figures: &[usize]| -> Vec<([i8; 8], bool)> {
                        let mut out = vec![([0i8; 8], false)];
                        for &f in figures {
                            let mut next = Vec::with_capacity(out.len() * 3);
                            for (v, used) in &out {
                                next.push((*v, *used));
                                for sign in [1i8, -1] {
                                    let mut w = *v;
                                    for i in 0..8 {
                                        w[i] += sign * vectors[f][i];
                                    }
                                    next.push((w, true));
                                }
                            }
                            out = next;
                        }
                        out
                    };
                    let plain: Vec<usize> = shown.iter().copied().filter(|&f| !is_rest(f)).collect();
                    let rests: Vec<usize> = shown.iter().copied().filter(|&f| is_rest(f)).collect();
                    let left: HashMap<[i8; 8], ()> = combine(&plain).into_iter().map(|(v, _)| (v, ())).collect();
                    // what any linear combination of them gives, any multiples included
                    let as_f64 = |v: &[i8; 8]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
                    let plain_span = Span::new(plain.iter().map(|&f| as_f64(&vectors[f])).collect());
                    for (v, uses_rest) in combine(&rests) {
                        if !uses_rest {
                            continue;
                        }
                        // (what the figures without the rest give away already, by any linear
                        // combination, is not the rest's doing: see the module's notes)
                        for &w in hidden.iter().filter(|&&w| !plain_span.contains(&as_f64(&vectors[w]))) {
                            let mut need = vectors[w];
                            for i in 0..8 {
                                need[i] -= v[i];
                            }
                            prop_assert!(!left.contains_key(&need),
                                "in municipality {m} a sum or difference of published figures with a rest ({v:?}) gives withheld figure {w}; shown {shown:?}, vectors {vectors:?}, withheld {withheld:?}");
                        }
                    }
                }
            }

            /// Departments are grouped into areas of three delimitations (0, the protected one,
            /// and 1, 2) and a sector holding them all; after secondary suppression no
            /// combination of one delimitation's published areas (or the sector) minus another
            /// delimitation's published areas inside it is a figure the rules suppress, only
            /// figures the rules pass are withheld, each once, and the protected delimitation
            /// keeps every figure the rules pass.
            #[test]
            fn no_revealing_difference_is_left(
                departments in proptest::collection::vec(group(), 2..9),
                cuts in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 8), 3),
                kind in prop_oneof![Just(Kind::Share), Just(Kind::Rate), Just(Kind::Mean)],
            ) {
                // each delimitation cuts the departments into runs: a true starts a new area
                let mut areas: Vec<(u8, u8, Vec<usize>)> = Vec::new();
                for (delimitation, cut) in cuts.iter().enumerate() {
                    let mut area = 0u8;
                    for (dep, &starts) in cut.iter().enumerate().take(departments.len()) {
                        if dep > 0 && starts {
                            area += 1;
                        }
                        match areas.last_mut() {
                            Some((d, a, deps)) if *d == delimitation as u8 && *a == area => deps.push(dep),
                            _ => areas.push((delimitation as u8, area, vec![dep])),
                        }
                    }
                }
                let mut names: Vec<(u8, u8)> = areas.iter().map(|(d, a, _)| (*d, *a)).collect();
                names.push((9, 0)); // the sector
                names.sort_unstable();
                let number = |n: (u8, u8)| names.binary_search(&n).unwrap();
                let sum = |deps: &[usize]| deps.iter().fold(Counts::new(0.0, 0.0), |acc, &i| {
                    Counts::new(acc.numerator + departments[i].numerator, acc.denominator + departments[i].denominator)
                });
                let mut counts = vec![None; names.len()];
                for (d, a, deps) in &areas {
                    counts[number((*d, *a))] = Some(sum(deps));
                }
                let all: Vec<usize> = (0..departments.len()).collect();
                counts[number((9, 0))] = Some(sum(&all));
                let mut containments: Vec<Containment<usize>> = super::containments(&areas)
                    .into_iter()
                    .map(|c| Containment { containers: c.containers.into_iter().map(number).collect(), parts: c.parts.into_iter().map(number).collect() })
                    .collect();
                for delimitation in 0..3u8 {
                    let parts = areas.iter().filter(|x| x.0 == delimitation).map(|x| number((x.0, x.1))).collect();
                    containments.push(Containment { containers: vec![number((9, 0))], parts });
                }
                let rules = Disclosure::default();
                let rank = |f: usize| match names[f].0 { 0 => 2, 9 => 1, _ => 0 };
                let withheld = secondary_suppressions(kind, &rules, &counts, &containments, rank, None);
                let published = |f: usize| counts[f].is_some_and(|c| !rules.suppresses(kind, c)) && withheld.binary_search(&f).is_err();
                prop_assert!(withheld.windows(2).all(|w| w[0] < w[1]), "each figure is withheld once: {withheld:?}");
                for f in &withheld {
                    prop_assert!(!rules.suppresses(kind, counts[*f].unwrap()), "only figures the rules pass are withheld");
                    prop_assert!(names[*f].0 != 0, "the protected delimitation keeps its figures");
                }
                // independently of how the containments were found: every combination of one
                // delimitation's published areas (or the sector) minus the other's published
                // areas wholly inside it leaves nothing the rules suppress
                let mask = |deps: &[usize]| deps.iter().fold(0u32, |m, &d| m | 1 << d);
                let sector = (number((9, 0)), mask(&all));
                for outer in 0..3u8 {
                    let mine: Vec<(usize, u32)> = areas.iter().filter(|x| x.0 == outer).map(|x| (number((x.0, x.1)), mask(&x.2))).collect();
                    let mut combinations: Vec<Vec<(usize, u32)>> =
                        (1u32..1 << mine.len()).map(|m| (0..mine.len()).filter(|i| m & (1 << i) != 0).map(|i| mine[i]).collect()).collect();
                    combinations.push(vec![sector]);
                    for combination in combinations {
                        if !combination.iter().all(|(f, _)| published(*f)) {
                            continue;
                        }
                        let held = combination.iter().fold(0, |m, (_, x)| m | x);
                        for inner in (0..3u8).filter(|&d| d != outer) {
                            let mut rest = combination.iter().fold(Counts::new(0.0, 0.0), |acc, (f, _)| {
                                let x = counts[*f].unwrap();
                                Counts::new(acc.numerator + x.numerator, acc.denominator + x.denominator)
                            });
                            let mut any = false;
                            for x in areas.iter().filter(|x| x.0 == inner) {
                                let f = number((x.0, x.1));
                                if published(f) && mask(&x.2) & !held == 0 {
                                    let c = counts[f].unwrap();
                                    rest = Counts::new(rest.numerator - c.numerator, rest.denominator - c.denominator);
                                    any = true;
                                }
                            }
                            prop_assert!(!any || rest.denominator == 0.0 || !rules.suppresses(kind, rest),
                                "{combination:?} minus delimitation {inner}'s areas inside leaves {rest:?}");
                        }
                    }
                }
            }
        }
    }
}
