//! Disclosure per caller (access.md, "Disclosure, per caller"). A signed-in caller sees every
//! public figure and, besides, its own departments' figures. A public figure minus the caller's
//! part of it is the rest of the figure: other organisations' departments (or the people of a
//! reference level outside the caller's departments). When that rest is one the primary rules
//! would suppress, or a single department of the caller's that is withheld, one more of the
//! caller's departments in the figure is withheld from it, until no such difference is left.
//! Public figures are never touched: public answers stay the same for everybody.
//!
//! Algebra: what the caller knows is the public figures and its published departments; as the
//! latter are single departments, everything it can work out is a combination of the public
//! figures with the caller's published departments taken out (their *residuals*). The guard
//! checks each residual alone, each residual minus another inside it, and each residual minus
//! several disjoint ones inside it (up to [`MAX_PARTS`]), which is what nested areas,
//! delimitations and reference levels give. A selection of the caller's departments reveals
//! nothing more: it is withheld when it holds a withheld department, and otherwise is a sum of
//! published ones.

use super::figures::{Counts, Disclosure};
use super::model::Kind;

/// Beyond this many light parts inside one residual, only none or one of them is left in
/// when the others are taken out, not every combination (`several_parts`; the exact check
/// of `span` covers the rest).
pub const MAX_PARTS: usize = 4;

/// A set of atoms (departments not the caller's, and the people of a reference level outside
/// every listed department), as bits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Atoms(Vec<u64>);

impl Atoms {
    pub fn with_capacity(atoms: usize) -> Self {
        Atoms(vec![0; atoms.div_ceil(64)])
    }

    pub fn insert(&mut self, atom: usize) {
        let word = atom / 64;
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (atom % 64);
    }

    pub fn contains(&self, atom: usize) -> bool {
        self.0.get(atom / 64).is_some_and(|w| w & (1 << (atom % 64)) != 0)
    }

    fn word(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }

    fn words(&self, other: &Atoms) -> usize {
        self.0.len().max(other.0.len())
    }

    /// The atoms of `self` not in `other`.
    pub fn without(&self, other: &Atoms) -> Atoms {
        Atoms(self.0.iter().enumerate().map(|(i, w)| w & !other.word(i)).collect())
    }

    /// Whether every atom of `self` is in `other`.
    pub fn within(&self, other: &Atoms) -> bool {
        (0..self.words(other)).all(|i| self.word(i) & !other.word(i) == 0)
    }

    /// Whether no atom is in both.
    pub fn apart(&self, other: &Atoms) -> bool {
        self.0.iter().enumerate().all(|(i, w)| w & other.word(i) == 0)
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// How many atoms of `self` are not in `other`.
    pub fn count_without(&self, other: &Atoms) -> usize {
        self.0.iter().enumerate().map(|(i, w)| (w & !other.word(i)).count_ones() as usize).sum()
    }

    pub fn first(&self) -> Option<usize> {
        self.0.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    i * 64 + bit
                })
            })
        })
    }
}

/// A public figure's members: the caller's departments in it (their indices) and the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shape {
    pub own: Vec<usize>,
    pub others: Atoms,
}

/// The public figures that hold at least one of the caller's departments, whatever the year.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub own: usize,
    pub shapes: Vec<Shape>,
    /// For each shape, the shapes whose other atoms lie within its own (itself excluded).
    inside: Vec<Vec<usize>>,
    /// For each atom, the shapes that hold it; for each of the caller's departments, the
    /// shapes that hold it: where a residual can lie within another (see `next_steps`).
    with_atom: Vec<Vec<usize>>,
    with_own: Vec<Vec<usize>>,
}

impl Layout {
    pub fn new(own: usize, shapes: Vec<Shape>) -> Layout {
        let inside = (0..shapes.len())
            .map(|g| (0..shapes.len()).filter(|&h| h != g && shapes[h].others.within(&shapes[g].others)).collect())
            .collect();
        let atoms = shapes.iter().map(|s| s.others.0.len() * 64).max().unwrap_or(0);
        let mut with_atom = vec![Vec::new(); atoms];
        let mut with_own = vec![Vec::new(); own];
        for (g, shape) in shapes.iter().enumerate() {
            for atom in shape.others.iter() {
                with_atom[atom].push(g);
            }
            for &d in &shape.own {
                with_own[d].push(g);
            }
        }
        Layout { own, shapes, inside, with_atom, with_own }
    }
}

/// One indicator and year.
pub struct Year<'a> {
    pub kind: Kind,
    /// The caller's departments' counts; `None` without an observation.
    pub own: &'a [Option<Counts>],
    /// Each shape's published counts; `None` where the public figure is not published.
    pub published: &'a [Option<Counts>],
    /// Atoms known to have no observation this year.
    pub absent: &'a Atoms,
    /// The counts of another department, by its atom, where the service has them (none for
    /// the people of a level beyond its departments).
    pub counts: &'a dyn Fn(usize) -> Option<Counts>,
}

/// What the caller can work out besides the public figures: its departments shown (or
/// pinned: given away by public figures alone) and other atoms given away by a difference,
/// by public figures alone or with the caller's departments (the latter forgotten whenever a
/// department is withheld, as they may have come from it).
struct Knowledge {
    primary: Vec<bool>,
    withheld: Vec<bool>,
    pinned: Vec<bool>,
    public: Vec<(usize, Counts)>,
    callers: Vec<(usize, Counts)>,
    known: Atoms,
}

impl Knowledge {
    fn shown(&self, d: usize) -> bool {
        self.primary[d] && (!self.withheld[d] || self.pinned[d])
    }

    fn learn(&mut self, atom: usize, counts: Counts, public: bool) {
        self.known.insert(atom);
        if public { self.public.push((atom, counts)) } else { self.callers.push((atom, counts)) }
    }

    fn withhold(&mut self, d: usize) {
        self.withheld[d] = true;
        self.callers.clear();
        self.known = Atoms::default();
        for &(atom, _) in &self.public {
            self.known.insert(atom);
        }
    }
}

/// A residual: a published figure less what the caller knows of it.
struct Residual {
    counts: Counts,
    /// The caller's departments in it with an observation that are withheld.
    hidden: Vec<usize>,
    /// The caller's shown departments taken out.
    taken: Vec<usize>,
    /// Its other atoms with data that the caller does not know.
    others: Atoms,
    /// Whether an atom the caller knows only with its departments' help was taken out.
    helped: bool,
}

/// What makes a difference safe, or what it adds to the caller's knowledge.
enum Step {
    /// Withholding this department of the caller's.
    Withhold(usize),
    /// Nothing: the public figures alone give this department of the caller's away, and it
    /// passes the primary rules, so it is known, and shown.
    Pin(usize),
    /// An atom the difference is alone, with its counts, and whether the public figures alone
    /// gave it: it passes the primary rules and is known from now on (so that what is left of
    /// a figure without it is seen).
    Derive(usize, Counts, bool),
}

/// Which of the caller's departments may be shown to it this year.
pub fn publishable(disclosure: &Disclosure, layout: &Layout, year: &Year) -> Vec<bool> {
    let primary: Vec<bool> = year.own.iter().map(|c| c.is_some_and(|c| !disclosure.suppresses(year.kind, c))).collect();
    let none = vec![false; primary.len()];
    let mut k =
        Knowledge { primary, withheld: none.clone(), pinned: none, public: Vec::new(), callers: Vec::new(), known: Atoms::default() };
    // each step withholds a department not pinned, pins one, or learns an atom not known;
    // withholding only grows, and between two the others only grow, so this ends
    loop {
        while let Some(steps) = next_steps(disclosure, layout, year, &k) {
            for step in steps {
                match step {
                    Step::Withhold(d) => k.withhold(d),
                    Step::Pin(d) => k.pinned[d] = true,
                    Step::Derive(atom, counts, public) => k.learn(atom, counts, public),
                }
            }
        }
        let shown: Vec<bool> = (0..k.primary.len()).map(|d| k.shown(d)).collect();
        // (shown nothing, the caller sees what everybody sees: nothing of its own to check)
        if !shown.contains(&true) {
            return shown;
        }
        match span::leak(disclosure, layout, year, &shown, &k.pinned) {
            Some(d) => k.withhold(d),
            None => return shown,
        }
    }
}

fn residuals(layout: &Layout, year: &Year, k: &Knowledge) -> Vec<Option<Residual>> {
    layout
        .shapes
        .iter()
        .zip(year.published)
        .map(|(shape, published)| {
            let mut counts = (*published)?;
            let (mut hidden, mut taken) = (Vec::new(), Vec::new());
            let mut take = |c: Counts| {
                counts.numerator -= c.numerator;
                counts.denominator -= c.denominator;
            };
            for &d in &shape.own {
                match year.own[d] {
                    Some(c) if k.shown(d) => {
                        take(c);
                        taken.push(d);
                    }
                    Some(_) => hidden.push(d),
                    None => {}
                }
            }
            let mut helped = false;
            for (&(atom, c), public) in k.public.iter().zip(std::iter::repeat(true)).chain(k.callers.iter().zip(std::iter::repeat(false))) {
                if shape.others.contains(atom) {
                    take(c);
                    helped |= !public;
                }
            }
            let others = shape.others.without(year.absent).without(&k.known);
            Some(Residual { counts, hidden, taken, others, helped })
        })
        .collect()
}

/// The next steps: the first difference of published figures less what the caller knows that
/// is unsafe (a withholding or a pin, alone), or else every atom the differences give away in
/// one pass. (Residuals are not worked out again after each atom learnt: a difference of
/// figures less fewer known atoms is as true, and what it misses the next pass finds.)
fn next_steps(disclosure: &Disclosure, layout: &Layout, year: &Year, k: &Knowledge) -> Option<Vec<Step>> {
    let residuals = residuals(layout, year, k);
    let judge = Judge { disclosure, year, k };
    let mut derived: Vec<Step> = Vec::new();
    let mut learnt = Atoms::default();
    let mut take = |step: Step| -> Option<Vec<Step>> {
        match step {
            Step::Derive(atom, ..) if learnt.contains(atom) => None,
            Step::Derive(atom, ..) => {
                learnt.insert(atom);
                derived.push(step);
                None
            }
            other => Some(vec![other]),
        }
    };
    for r in residuals.iter().flatten() {
        let public = || r.taken.is_empty() && !r.helped;
        let first = || (r.others.first(), r.hidden.first().copied());
        if let Some(step) = judge.difference(r.counts, r.others.count(), r.hidden.len(), &first, &|| r.taken.clone(), &public)
            && let Some(stop) = take(step)
        {
            return Some(stop);
        }
    }
    // Where one residual may lie within another: the shapes inside it, and those holding the
    // first atom (or, with none, the first withheld department) of a residual — a residual's
    // atoms are its shape's, so one within another has its first atom there.
    let mut candidates: Vec<Vec<usize>> = layout.inside.clone();
    for (h, inner) in residuals.iter().enumerate() {
        let Some(inner) = inner else { continue };
        let holders = match (inner.others.first(), inner.hidden.first()) {
            (Some(atom), _) => &layout.with_atom[atom],
            (None, Some(&d)) => &layout.with_own[d],
            // (all of it known: taken out of another it changes nothing the other's own
            // residual does not show)
            (None, None) => continue,
        };
        for &g in holders.iter().filter(|&&g| g != h) {
            candidates[g].push(h);
        }
    }
    for (g, outer) in residuals.iter().enumerate() {
        let Some(outer) = outer else { continue };
        let mut parts: Vec<&Residual> = Vec::new();
        let mut hs = std::mem::take(&mut candidates[g]);
        hs.sort_unstable();
        hs.dedup();
        for h in hs {
            let Some(inner) = &residuals[h] else { continue };
            if !inner.hidden.iter().all(|d| outer.hidden.contains(d)) {
                continue;
            }
            let structural = layout.inside[g].binary_search(&h).is_ok();
            let counts = minus(outer.counts, &[inner]);
            // (the counts first: other sets are compared only for a difference that may leak)
            if structural || (disclosure.suppresses(year.kind, counts) && inner.others.within(&outer.others)) {
                // (inner's withheld departments are among outer's, checked above)
                let hidden = outer.hidden.len() - inner.hidden.len();
                let atoms = outer.others.count_without(&inner.others);
                let first =
                    || (outer.others.without(&inner.others).first(), outer.hidden.iter().copied().find(|d| !inner.hidden.contains(d)));
                let public = || same(&outer.taken, &[inner]) && !outer.helped && !inner.helped;
                // the caller's departments taken out of one and not the other are what the
                // difference needs; where there are none it is a public difference
                let candidates = || one_sided(&outer.taken, &[inner]);
                if let Some(step) = judge.difference(counts, atoms, hidden, &first, &candidates, &public)
                    && let Some(stop) = take(step)
                {
                    return Some(stop);
                }
            }
            if structural && parts.iter().all(|p| apart(p, inner)) {
                parts.push(inner);
            }
        }
        if parts.len() > 1
            && let Some(step) = several_parts(&judge, outer, &parts)
            && let Some(stop) = take(step)
        {
            return Some(stop);
        }
    }
    (!derived.is_empty()).then_some(derived)
}

/// The caller's departments taken out of the outer residual and not the parts, or out of a
/// part and not the outer one.
fn one_sided(taken: &[usize], parts: &[&Residual]) -> Vec<usize> {
    let inner: Vec<usize> = parts.iter().flat_map(|p| p.taken.iter().copied()).collect();
    let mut out: Vec<usize> =
        taken.iter().copied().filter(|d| !inner.contains(d)).chain(inner.iter().copied().filter(|d| !taken.contains(d))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether the caller's departments taken out of the outer residual are exactly those taken
/// out of the parts, so that they cancel.
fn same(taken: &[usize], parts: &[&Residual]) -> bool {
    let mut inner: Vec<usize> = parts.iter().flat_map(|p| p.taken.iter().copied()).collect();
    inner.sort_unstable();
    let mut outer = taken.to_vec();
    outer.sort_unstable();
    inner == outer
}

struct Judge<'a> {
    disclosure: &'a Disclosure,
    year: &'a Year<'a>,
    k: &'a Knowledge,
}

impl Judge<'_> {
    /// A difference of `counts`, made of the `others` and the caller's `hidden` departments;
    /// `candidates` are the caller's shown departments whose withholding widens it; `public`:
    /// whether it is worked out from the public figures alone.
    /// `atoms` and `hidden` are how many there are; `first` gives the first of each, asked
    /// only where the difference may be a single one.
    #[allow(clippy::too_many_arguments)]
    fn difference(
        &self,
        counts: Counts,
        atoms: usize,
        hidden: usize,
        first: &dyn Fn() -> (Option<usize>, Option<usize>),
        candidates: &dyn Fn() -> Vec<usize>,
        public: &dyn Fn() -> bool,
    ) -> Option<Step> {
        let (kind, own) = (self.year.kind, self.year.own);
        if atoms == 0 && hidden == 0 {
            return None;
        }
        let revealed_own = atoms == 0 && hidden == 1;
        if self.disclosure.suppresses(kind, counts) || revealed_own {
            // the largest candidate not pinned: it makes the difference largest
            let size = |x: usize| own[x].map_or(0.0, |c| c.denominator);
            let best = candidates().into_iter().filter(|&x| !self.k.pinned[x]).max_by(|&a, &b| size(a).total_cmp(&size(b)).then(b.cmp(&a)));
            return match best {
                Some(x) => Some(Step::Withhold(x)),
                None if revealed_own => match first().1 {
                    Some(d) if self.k.primary[d] && public() => Some(Step::Pin(d)),
                    _ => None,
                },
                // what the public figures give away alone is no step of the caller's
                None => None,
            };
        }
        if atoms == 1 && hidden == 0 {
            return first().0.map(|atom| Step::Derive(atom, counts, public()));
        }
        None
    }
}

/// The disjoint parts taken out of the outer residual, two or more at a time. What is left
/// is the outer residual's own rest and the parts left in; counts are never negative, so a
/// difference is small on a count, or a single atom or withheld department, only when each
/// part left in is small on that count or holds at most one of them ("light"): the parts
/// that are not light are always taken out, and every combination of the light ones left in
/// is tried (up to [`MAX_PARTS`] light ones; beyond, none or one of them left in). The parts
/// lie within the outer residual and apart from each other, so what is left is counted by
/// subtraction; the sets themselves are made only where a difference may be a single one.
fn several_parts(judge: &Judge, outer: &Residual, parts: &[&Residual]) -> Option<Step> {
    let d = judge.disclosure;
    let light = |p: &Residual| {
        let c = p.counts;
        p.others.count() + p.hidden.len() <= 1
            || c.denominator < d.min_population as f64
            || c.numerator < d.min_count as f64
            || c.denominator - c.numerator < d.min_count as f64
    };
    let (light, heavy): (Vec<&Residual>, Vec<&Residual>) = parts.iter().copied().partition(|p| light(p));
    let outer_atoms = outer.others.count();
    let judge_chosen = |chosen: &[&Residual]| {
        let atoms_out: usize = chosen.iter().map(|p| p.others.count()).sum();
        let counts = minus(outer.counts, chosen);
        let hidden = outer.hidden.len() - chosen.iter().map(|p| p.hidden.len()).sum::<usize>();
        let first = || {
            let in_chosen = |d: &usize| chosen.iter().any(|p| p.hidden.contains(d));
            let mut others = outer.others.clone();
            for p in chosen {
                others = others.without(&p.others);
            }
            (others.first(), outer.hidden.iter().copied().find(|d| !in_chosen(d)))
        };
        let public = || same(&outer.taken, chosen) && !outer.helped && chosen.iter().all(|p| !p.helped);
        let candidates = || one_sided(&outer.taken, chosen);
        judge.difference(counts, outer_atoms - atoms_out, hidden, &first, &candidates, &public)
    };
    // which light parts are left in: every combination of a few, or none or one of many
    let left_in: Vec<Vec<usize>> = if light.len() <= MAX_PARTS {
        (0..1u32 << light.len()).map(|mask| (0..light.len()).filter(|i| mask & (1 << i) != 0).collect()).collect()
    } else {
        std::iter::once(Vec::new()).chain((0..light.len()).map(|i| vec![i])).collect()
    };
    let mut chosen: Vec<&Residual> = Vec::with_capacity(parts.len());
    for left in left_in {
        chosen.clear();
        chosen.extend(heavy.iter().copied());
        chosen.extend(light.iter().enumerate().filter(|(i, _)| !left.contains(i)).map(|(_, p)| *p));
        if chosen.len() < 2 {
            // (one part alone, or none, is a pair or the residual itself: judged already)
            continue;
        }
        if let Some(step) = judge_chosen(&chosen) {
            return Some(step);
        }
    }
    None
}

fn apart(a: &Residual, b: &Residual) -> bool {
    a.others.apart(&b.others) && !a.hidden.iter().any(|d| b.hidden.contains(d))
}

fn minus(outer: Counts, inner: &[&Residual]) -> Counts {
    inner.iter().fold(outer, |c, r| Counts::new(c.numerator - r.counts.numerator, c.denominator - r.counts.denominator))
}

/// The exact check: one department alone (a withheld one of the caller's, or another's that
/// the primary rules suppress) as a linear combination of the published figures and the
/// caller's shown departments, whatever the coefficients. Worked out over the integers modulo
/// a 61-bit prime, which tells a combination from none but for a chance of about 2⁻⁵⁰.
mod span {
    use std::collections::HashMap;

    use super::{Counts, Disclosure, Layout, Year};
    use crate::domain::model::Kind;

    const P: u64 = (1 << 61) - 1;

    /// a·b mod P, by P's Mersenne form (2^61 ≡ 1) rather than a 128-bit division, which
    /// cost most of a grant's first request
    fn mul(a: u64, b: u64) -> u64 {
        let p = u128::from(a) * u128::from(b);
        let r = (p as u64 & P) + (p >> 61) as u64;
        if r >= P { r - P } else { r }
    }

    #[test]
    fn the_mersenne_product_is_the_remainder() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % P
        };
        for (a, b) in (0..100_000).map(|_| (next(), next())).chain([(P - 1, P - 1), (0, P - 1), (1, 1), (P - 1, 2)]) {
            assert_eq!(mul(a, b), ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64, "{a} * {b}");
        }
    }

    fn sub(a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + P - b }
    }

    fn inverse(a: u64) -> u64 {
        let (mut base, mut exp, mut out) = (a, P - 2, 1);
        while exp > 0 {
            if exp & 1 == 1 {
                out = mul(out, base);
            }
            base = mul(base, base);
            exp >>= 1;
        }
        out
    }

    /// A row space in reduced echelon form.
    struct Span {
        rows: Vec<(usize, Vec<u64>)>,
    }

    impl Span {
        fn new(mut rows: Vec<Vec<u64>>, columns: usize) -> Span {
            let mut out: Vec<(usize, Vec<u64>)> = Vec::new();
            let mut next = 0;
            for c in 0..columns {
                let Some(p) = (next..rows.len()).find(|&r| rows[r][c] != 0) else { continue };
                rows.swap(next, p);
                let scale = inverse(rows[next][c]);
                rows[next].iter_mut().for_each(|x| *x = mul(*x, scale));
                let pivot = rows[next].clone();
                for (r, row) in rows.iter_mut().enumerate() {
                    if r != next && row[c] != 0 {
                        let f = row[c];
                        for (x, y) in row.iter_mut().zip(&pivot) {
                            *x = sub(*x, mul(f, *y));
                        }
                    }
                }
                for (_, row) in &mut out {
                    if row[c] != 0 {
                        let f = row[c];
                        for (x, y) in row.iter_mut().zip(&pivot) {
                            *x = sub(*x, mul(f, *y));
                        }
                    }
                }
                out.push((c, pivot));
                next += 1;
            }
            Span { rows: out }
        }

        /// Whether the unit vector of `column` is in the space.
        fn holds_unit(&self, column: usize) -> bool {
            let mut v: Vec<u64> = vec![0; self.rows.first().map_or(0, |r| r.1.len())];
            if column >= v.len() {
                return false;
            }
            v[column] = 1;
            self.holds(&v)
        }

        /// Whether a vector is in the space.
        fn holds(&self, v: &[u64]) -> bool {
            let mut v = v.to_vec();
            if self.rows.is_empty() {
                return v.iter().all(|&x| x == 0);
            }
            for (c, row) in &self.rows {
                if v[*c] != 0 {
                    let f = v[*c];
                    for (x, y) in v.iter_mut().zip(row) {
                        *x = sub(*x, mul(f, *y));
                    }
                }
            }
            v.iter().all(|&x| x == 0)
        }
    }

    /// A column: one of the caller's departments, or another atom.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Member {
        Own(usize),
        Other(usize),
    }

    /// The published figures as rows over their members with data, members that lie in the
    /// same figures merged (a combination cannot tell them apart); `project` leaves the
    /// caller's shown departments out (it knows them).
    /// The span of the rows, the merged column classes and the 0/1 matrix over them.
    type Rows = (Span, Vec<Vec<Member>>, Vec<Vec<u64>>);

    fn rows(layout: &Layout, year: &Year, keep_own: &dyn Fn(usize) -> bool) -> Rows {
        let mut figures: HashMap<Member, Vec<u32>> = HashMap::new();
        for (r, shape) in layout.shapes.iter().enumerate().filter(|(r, _)| year.published[*r].is_some()) {
            for &d in shape.own.iter().filter(|&&d| year.own[d].is_some() && keep_own(d)) {
                figures.entry(Member::Own(d)).or_default().push(r as u32);
            }
            let present = shape.others.without(year.absent);
            for (w, word) in present.0.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    let atom = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    figures.entry(Member::Other(atom)).or_default().push(r as u32);
                }
            }
        }
        let mut classes: HashMap<Vec<u32>, usize> = HashMap::new();
        let mut members: Vec<Vec<Member>> = Vec::new();
        let mut class_rows: Vec<Vec<u32>> = Vec::new();
        let mut sorted: Vec<(Member, Vec<u32>)> = figures.into_iter().collect();
        sorted.sort_unstable_by_key(|(m, _)| match m {
            Member::Own(d) => (0, *d),
            Member::Other(a) => (1, *a),
        });
        for (member, in_rows) in sorted {
            let class = *classes.entry(in_rows.clone()).or_insert_with(|| {
                members.push(Vec::new());
                class_rows.push(in_rows);
                members.len() - 1
            });
            members[class].push(member);
        }
        let mut matrix = vec![vec![0u64; members.len()]; layout.shapes.len()];
        for (class, in_rows) in class_rows.iter().enumerate() {
            for &r in in_rows {
                matrix[r as usize][class] = 1;
            }
        }
        matrix.retain(|row| row.iter().any(|&x| x != 0));
        (Span::new(matrix.clone(), members.len()), members, matrix)
    }

    /// Beyond this many dimensions of sets of small figures, sets are not searched (the
    /// single departments still are); see `leak`.
    pub(super) const MAX_SEARCH: usize = 14;

    /// A shown department of the caller's to withhold, when a department alone, or a set of
    /// other departments whose sum the primary rules suppress, is a combination of what the
    /// caller sees and not of the public figures alone.
    pub(super) fn leak(disclosure: &Disclosure, layout: &Layout, year: &Year, shown: &[bool], pinned: &[bool]) -> Option<usize> {
        let (seen, members, matrix) = rows(layout, year, &|d| !shown[d]);
        let mut public: Option<Rows> = None;
        let mut public_holds = |set: &[Member]| {
            let (all, all_members, _) = public.get_or_insert_with(|| rows(layout, year, &|_| true));
            // a set is a combination only if it is a union of the public classes
            let mut v = vec![0u64; all_members.len()];
            for (c, m) in all_members.iter().enumerate() {
                let inside = m.iter().filter(|x| set.contains(x)).count();
                if inside == m.len() {
                    v[c] = 1;
                } else if inside > 0 {
                    return false;
                }
            }
            all.holds(&v)
        };
        let mut targets: Vec<Vec<Member>> = Vec::new();
        for (class, m) in members.iter().enumerate() {
            let alone = match m[..] {
                [Member::Own(_)] => true,
                [Member::Other(a)] => (year.counts)(a).is_some_and(|c: Counts| disclosure.suppresses(year.kind, c)),
                _ => false,
            };
            if alone && seen.holds_unit(class) {
                targets.push(m.clone());
            }
        }
        targets.extend(small_sets(disclosure, year, &members, &matrix));
        for target in targets {
            if public_holds(&target) {
                // the public figures give it away alone: no step of the caller's
                continue;
            }
            if let Some(d) = candidate(layout, year, shown, pinned, &target) {
                return Some(d);
            }
        }
        None
    }

    /// The caller's shown department to withhold for a target: one in the figures that hold
    /// it, the largest first, else the largest.
    fn candidate(layout: &Layout, year: &Year, shown: &[bool], pinned: &[bool], target: &[Member]) -> Option<usize> {
        let holding = |d: usize| {
            layout.shapes.iter().enumerate().any(|(r, shape)| {
                year.published[r].is_some()
                    && shape.own.contains(&d)
                    && target.iter().any(|t| match *t {
                        Member::Own(t) => shape.own.contains(&t),
                        Member::Other(a) => shape.others.contains(a),
                    })
            })
        };
        let size = |x: usize| year.own[x].map_or(0.0, |c| c.denominator);
        (0..shown.len())
            .filter(|&d| shown[d] && !pinned[d])
            .max_by(|&a, &b| holding(a).cmp(&holding(b)).then(size(a).total_cmp(&size(b))).then(b.cmp(&a)))
    }

    /// The sets of other departments, two or more, whose sum the primary rules suppress and
    /// that are combinations of the rows. A set that is suppressed holds a class that is small
    /// on the same count (no count is negative), and is made of classes each at most that
    /// small on it: so, for each count the rules bound, the rows' combinations over those
    /// classes alone are searched, up to [`MAX_SEARCH`] dimensions.
    fn small_sets(disclosure: &Disclosure, year: &Year, members: &[Vec<Member>], matrix: &[Vec<u64>]) -> Vec<Vec<Member>> {
        let class_counts: Vec<Option<Counts>> = members
            .iter()
            .map(|m| {
                m.iter().try_fold(Counts::default(), |sum, x| match *x {
                    Member::Other(a) => (year.counts)(a).map(|c| Counts::new(sum.numerator + c.numerator, sum.denominator + c.denominator)),
                    Member::Own(_) => None,
                })
            })
            .collect();
        let small = |limit: f64, of: &dyn Fn(Counts) -> f64| -> Vec<bool> {
            class_counts.iter().map(|c| c.is_some_and(|c| of(c) < limit)).collect()
        };
        let min_count = disclosure.min_count as f64;
        let mut bounds = vec![small(disclosure.min_population as f64, &|c| c.denominator)];
        match year.kind {
            Kind::Share => {
                bounds.push(small(min_count, &|c| c.numerator));
                bounds.push(small(min_count, &|c| c.denominator - c.numerator));
            }
            Kind::Rate => bounds.push(small(min_count, &|c| c.numerator)),
            Kind::Mean => {}
        }
        let mut out = Vec::new();
        for within in bounds {
            // the classes outside first, so that the rows left with a pivot among the small
            // ones are zero outside them: a basis of the combinations over those alone
            let order: Vec<usize> = (0..members.len()).filter(|&c| !within[c]).chain((0..members.len()).filter(|&c| within[c])).collect();
            let permuted: Vec<Vec<u64>> = matrix.iter().map(|row| order.iter().map(|&c| row[c]).collect()).collect();
            let first_small = order.iter().position(|&c| within[c]).unwrap_or(order.len());
            let span = Span::new(permuted, order.len());
            let basis: Vec<&Vec<u64>> = span.rows.iter().filter(|(p, _)| *p >= first_small).map(|(_, r)| r).collect();
            if basis.is_empty() || basis.len() > MAX_SEARCH {
                continue;
            }
            // every combination of the basis rows with coefficients 0 or 1, in Gray-code order:
            // one row added or taken away per step, and the entries that are neither 0 nor 1
            // counted as they change
            let sparse: Vec<Vec<(usize, u64)>> =
                basis.iter().map(|row| row.iter().enumerate().filter(|(_, x)| **x != 0).map(|(c, &x)| (c, x)).collect()).collect();
            let mut v = vec![0u64; order.len()];
            let mut not_binary = 0usize;
            let mut chosen = 0u32;
            for step in 1u32..(1 << basis.len()) {
                let flip = step.trailing_zeros() as usize;
                let adding = chosen & (1 << flip) == 0;
                chosen ^= 1 << flip;
                for &(c, x) in &sparse[flip] {
                    let before = v[c] > 1;
                    v[c] = if adding { (v[c] + x) % P } else { (v[c] + P - x) % P };
                    match (before, v[c] > 1) {
                        (false, true) => not_binary += 1,
                        (true, false) => not_binary -= 1,
                        _ => {}
                    }
                }
                if not_binary > 0 {
                    continue;
                }
                let set: Vec<Member> =
                    v.iter().zip(&order).filter(|(x, _)| **x == 1).flat_map(|(_, &c)| members[c].iter().copied()).collect();
                let sum = v
                    .iter()
                    .zip(&order)
                    .filter(|(x, _)| **x == 1)
                    .filter_map(|(_, &c)| class_counts[c])
                    .fold(Counts::default(), |a, c| Counts::new(a.numerator + c.numerator, a.denominator + c.denominator));
                if set.len() > 1 && disclosure.suppresses(year.kind, sum) {
                    out.push(set);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Disclosure = Disclosure { min_population: 20, min_count: 5 };

    fn atoms(ids: &[usize]) -> Atoms {
        let mut a = Atoms::default();
        for &i in ids {
            a.insert(i);
        }
        a
    }

    fn shape(own: &[usize], others: &[usize]) -> Shape {
        Shape { own: own.to_vec(), others: atoms(others) }
    }

    fn counts(n: f64, d: f64) -> Option<Counts> {
        Some(Counts::new(n, d))
    }

    fn run(own: &[Option<Counts>], shapes: Vec<Shape>, published: &[Option<Counts>]) -> Vec<bool> {
        let layout = Layout::new(own.len(), shapes);
        publishable(&RULES, &layout, &Year { kind: Kind::Share, own, published, absent: &Atoms::default(), counts: &|_| None })
    }

    #[test]
    fn many_small_parts_inside_one_figure() {
        // a municipality of 70 small published areas and the caller's department, which the
        // municipality less every area gives away to anyone: shown (many parts are taken
        // out of one figure without trying every combination)
        let own = [counts(10.0, 40.0)];
        let mut shapes = vec![shape(&[0], &(1..=70).collect::<Vec<_>>())];
        let mut published = vec![counts(10.0 + 70.0 * 2.0, 40.0 + 70.0 * 10.0)];
        for a in 1..=70 {
            shapes.push(shape(&[], &[a]));
            published.push(counts(2.0, 10.0));
        }
        assert_eq!(run(&own, shapes, &published), [true]);
    }

    #[test]
    fn an_area_less_the_callers_part_is_guarded() {
        // the note's case: the area's other departments hold 18 pupils in all
        let own = [counts(40.0, 100.0)];
        let area = counts(49.0, 118.0);
        assert_eq!(run(&own, vec![shape(&[0], &[7])], &[area]), [false]);
        // with 30 other pupils the rest may be learnt
        assert_eq!(run(&own, vec![shape(&[0], &[7])], &[counts(52.0, 130.0)]), [true]);
    }

    #[test]
    fn a_department_alone_in_its_area_is_its_areas_figure() {
        let own = [counts(40.0, 100.0)];
        assert_eq!(run(&own, vec![shape(&[0], &[])], &[own[0]]), [true]);
    }

    #[test]
    fn primary_rules_first_and_a_withheld_one_is_not_given_away_by_the_others() {
        // two of the caller's, one suppressed by the primary rules: the area minus the shown
        // one would be the suppressed one
        let own = [counts(2.0, 10.0), counts(40.0, 100.0)];
        assert_eq!(run(&own, vec![shape(&[0, 1], &[])], &[counts(42.0, 110.0)]), [false, false]);
        // with others in the area and enough of them, the rest hides the suppressed one
        assert_eq!(run(&own, vec![shape(&[0, 1], &[5])], &[counts(72.0, 210.0)]), [false, true]);
    }

    #[test]
    fn a_suppressed_public_figure_gives_nothing_away() {
        let own = [counts(40.0, 100.0)];
        assert_eq!(run(&own, vec![shape(&[0], &[7])], &[None]), [true]);
    }

    #[test]
    fn nested_figures_less_the_callers_part_are_guarded() {
        // an area (caller's 0 and others 1, 2) and, under another delimitation, an area of
        // 1 and the caller's 3: once 0 and 3 are known, the first minus the second is 2 alone
        let own = [counts(40.0, 100.0), counts(40.0, 100.0)];
        let shapes = vec![shape(&[0], &[1, 2]), shape(&[1], &[1])];
        let published = [counts(40.0 + 30.0 + 2.0, 100.0 + 100.0 + 10.0), counts(70.0, 200.0)];
        let shown = run(&own, shapes, &published);
        assert!(!(shown[0] && shown[1]), "{shown:?}");
    }

    #[test]
    fn several_parts_taken_out_of_one() {
        // a municipality's sector holds the caller's department and others 1..=3; areas of 1
        // and 2 are public: sector − caller − area(1) − area(2) = 3, which is small
        let own = [counts(40.0, 100.0)];
        let shapes = vec![shape(&[0], &[1, 2, 3]), shape(&[], &[1]), shape(&[], &[2])];
        let published = [counts(40.0 + 60.0 + 60.0 + 3.0, 100.0 + 200.0 + 200.0 + 10.0), counts(60.0, 200.0), counts(60.0, 200.0)];
        assert_eq!(run(&own, shapes, &published), [false]);
    }

    #[test]
    fn a_department_without_data_that_year_changes_no_nesting() {
        // others 1 and 2: 2 has no observation this year, so the outer residual is 1 and 5
        let own = [counts(40.0, 100.0)];
        let shapes = vec![shape(&[0], &[1, 2, 5]), shape(&[], &[1, 9])];
        let published = [counts(40.0 + 30.0 + 3.0, 100.0 + 100.0 + 10.0), counts(30.0, 100.0)];
        let layout = Layout::new(1, shapes);
        let absent = atoms(&[2, 9]);
        let year = Year { kind: Kind::Share, own: &own, published: &published, absent: &absent, counts: &|_| None };
        assert_eq!(publishable(&RULES, &layout, &year), [false]);
        let year = Year { absent: &Atoms::default(), ..year };
        assert_eq!(publishable(&RULES, &layout, &year), [true], "with 2 and 9 present, the second is no part of the first");
    }
}
