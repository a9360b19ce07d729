//! ETRS89 / UTM zones 32N and 33N (EPSG:25832, EPSG:25833) to and from longitude/latitude,
//! in pure Rust: the Krüger series of the transverse Mercator projection to sixth order in
//! the third flattening (Karney 2011, "Transverse Mercator with an accuracy of a few
//! nanometers"), which agrees with PROJ far below a millimetre within a UTM zone.
//!
//! ETRS89 and WGS 84 differ by well under a metre and GeoJSON treats them as one (PROJ's
//! EPSG:25832 → EPSG:4326 is the same pure inverse projection), so no datum shift is applied.

/// The GRS80 ellipsoid of ETRS89.
const A: f64 = 6_378_137.0;
const F: f64 = 1.0 / 298.257_222_101;
const K0: f64 = 0.9996;
const FALSE_EASTING: f64 = 500_000.0;

/// A UTM zone of the northern hemisphere on ETRS89.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtmZone {
    /// EPSG:25832, central meridian 9°E (mainland Denmark).
    Z32,
    /// EPSG:25833, central meridian 15°E (Bornholm).
    Z33,
}

impl UtmZone {
    fn central_meridian(self) -> f64 {
        match self {
            UtmZone::Z32 => 9.0,
            UtmZone::Z33 => 15.0,
        }
    }

    pub fn epsg(self) -> u32 {
        match self {
            UtmZone::Z32 => 25832,
            UtmZone::Z33 => 25833,
        }
    }
}

struct Series {
    /// k0 · the rectifying radius.
    scale: f64,
    alpha: [f64; 6],
    beta: [f64; 6],
    /// Conformal latitude → geodetic latitude.
    delta: [f64; 6],
    /// Geodetic latitude → conformal latitude uses the closed form with e.
    e: f64,
}

fn series() -> Series {
    let n = F / (2.0 - F);
    let n2 = n * n;
    let n3 = n2 * n;
    let n4 = n3 * n;
    let n5 = n4 * n;
    let n6 = n5 * n;
    let rectifying = A / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0);
    Series {
        scale: K0 * rectifying,
        alpha: [
            n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0 + 41.0 * n4 / 180.0 - 127.0 * n5 / 288.0 + 7891.0 * n6 / 37800.0,
            13.0 * n2 / 48.0 - 3.0 * n3 / 5.0 + 557.0 * n4 / 1440.0 + 281.0 * n5 / 630.0 - 1983433.0 * n6 / 1935360.0,
            61.0 * n3 / 240.0 - 103.0 * n4 / 140.0 + 15061.0 * n5 / 26880.0 + 167603.0 * n6 / 181440.0,
            49561.0 * n4 / 161280.0 - 179.0 * n5 / 168.0 + 6601661.0 * n6 / 7257600.0,
            34729.0 * n5 / 80640.0 - 3418889.0 * n6 / 1995840.0,
            212378941.0 * n6 / 319334400.0,
        ],
        beta: [
            n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0 - n4 / 360.0 - 81.0 * n5 / 512.0 + 96199.0 * n6 / 604800.0,
            n2 / 48.0 + n3 / 15.0 - 437.0 * n4 / 1440.0 + 46.0 * n5 / 105.0 - 1118711.0 * n6 / 3870720.0,
            17.0 * n3 / 480.0 - 37.0 * n4 / 840.0 - 209.0 * n5 / 4480.0 + 5569.0 * n6 / 90720.0,
            4397.0 * n4 / 161280.0 - 11.0 * n5 / 504.0 - 830251.0 * n6 / 7257600.0,
            4583.0 * n5 / 161280.0 - 108847.0 * n6 / 3991680.0,
            20648693.0 * n6 / 638668800.0,
        ],
        delta: [
            2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3 + 116.0 * n4 / 45.0 + 26.0 * n5 / 45.0 - 2854.0 * n6 / 675.0,
            7.0 * n2 / 3.0 - 8.0 * n3 / 5.0 - 227.0 * n4 / 45.0 + 2704.0 * n5 / 315.0 + 2323.0 * n6 / 945.0,
            56.0 * n3 / 15.0 - 136.0 * n4 / 35.0 - 1262.0 * n5 / 105.0 + 73814.0 * n6 / 2835.0,
            4279.0 * n4 / 630.0 - 332.0 * n5 / 35.0 - 399572.0 * n6 / 14175.0,
            4174.0 * n5 / 315.0 - 144838.0 * n6 / 6237.0,
            601676.0 * n6 / 22275.0,
        ],
        e: (F * (2.0 - F)).sqrt(),
    }
}

fn cached() -> &'static Series {
    static SERIES: std::sync::OnceLock<Series> = std::sync::OnceLock::new();
    SERIES.get_or_init(series)
}

/// Easting and northing in metres to longitude and latitude in degrees.
pub fn utm_to_lon_lat(zone: UtmZone, easting: f64, northing: f64) -> (f64, f64) {
    let s = cached();
    let xi = northing / s.scale;
    let eta = (easting - FALSE_EASTING) / s.scale;
    let mut xi_p = xi;
    let mut eta_p = eta;
    for (j, b) in s.beta.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        xi_p -= b * (k * xi).sin() * (k * eta).cosh();
        eta_p -= b * (k * xi).cos() * (k * eta).sinh();
    }
    let chi = (xi_p.sin() / eta_p.cosh()).asin();
    let mut phi = chi;
    for (j, d) in s.delta.iter().enumerate() {
        phi += d * (2.0 * (j as f64 + 1.0) * chi).sin();
    }
    let lambda = eta_p.sinh().atan2(xi_p.cos());
    (zone.central_meridian() + lambda.to_degrees(), phi.to_degrees())
}

/// Longitude and latitude in degrees to easting and northing in metres.
pub fn lon_lat_to_utm(zone: UtmZone, lon: f64, lat: f64) -> (f64, f64) {
    let s = cached();
    let phi = lat.to_radians();
    let lambda = (lon - zone.central_meridian()).to_radians();
    let t = (phi.sin().atanh() - s.e * (s.e * phi.sin()).atanh()).sinh();
    let xi_p = t.atan2(lambda.cos());
    let eta_p = (lambda.sin() / (1.0 + t * t).sqrt()).atanh();
    let mut xi = xi_p;
    let mut eta = eta_p;
    for (j, a) in s.alpha.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
        eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
    }
    (FALSE_EASTING + s.scale * eta, s.scale * xi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference points computed with PROJ 9 through pyproj:
    /// `Transformer.from_crs("EPSG:2583x", "EPSG:4326", always_xy=True).transform(e, n)`.
    const PROJ_POINTS: &[(UtmZone, f64, f64, f64, f64)] = &[
        (UtmZone::Z32, 725000.0, 6175000.0, 12.577926126505, 55.668589867203),
        (UtmZone::Z32, 575000.123, 6225000.456, 10.207701470704, 56.164101182165),
        (UtmZone::Z32, 441000.0, 6345000.0, 8.022338864283, 57.244262872807),
        (UtmZone::Z32, 500000.0, 6100000.0, 9.000000000000, 55.046806306022),
        (UtmZone::Z32, 892000.0, 6130000.0, 15.156771234046, 55.160806931042),
        (UtmZone::Z32, 353000.0, 6400000.0, 6.532114299115, 57.718071135205),
        (UtmZone::Z32, 552345.678, 6320123.456, 9.862200752915, 57.021624384928),
        (UtmZone::Z33, 870000.0, 6120000.0, 20.800260342430, 55.088326655482),
        (UtmZone::Z33, 500000.0, 6100000.0, 15.000000000000, 55.046806306022),
        (UtmZone::Z33, 487000.5, 6113000.25, 14.795952378883, 55.163459269151),
    ];

    /// One millimetre is about 9e-9° of latitude and 1.6e-8° of longitude at 55°N.
    const MILLIMETRE_DEG: f64 = 9e-9;

    #[test]
    fn inverse_agrees_with_proj_to_a_millimetre() {
        for &(zone, e, n, lon, lat) in PROJ_POINTS {
            let (x, y) = utm_to_lon_lat(zone, e, n);
            assert!((x - lon).abs() < MILLIMETRE_DEG / 10.0, "{zone:?} {e} {n}: lon {x} vs {lon}");
            assert!((y - lat).abs() < MILLIMETRE_DEG / 10.0, "{zone:?} {e} {n}: lat {y} vs {lat}");
        }
    }

    #[test]
    fn forward_agrees_with_proj_to_a_millimetre() {
        for &(zone, e, n, lon, lat) in PROJ_POINTS {
            let (x, y) = lon_lat_to_utm(zone, lon, lat);
            // the reference coordinates carry 12 decimals (≈ 0.1 µm), so 1 mm is a fair bound
            assert!((x - e).abs() < 1e-3, "{zone:?}: easting {x} vs {e}");
            assert!((y - n).abs() < 1e-3, "{zone:?}: northing {y} vs {n}");
        }
    }

    #[test]
    fn round_trips_across_denmark() {
        for lat in [54.5, 55.0, 55.7, 56.5, 57.7] {
            for lon in [8.0, 9.0, 10.5, 12.6, 15.1] {
                for zone in [UtmZone::Z32, UtmZone::Z33] {
                    let (e, n) = lon_lat_to_utm(zone, lon, lat);
                    let (x, y) = utm_to_lon_lat(zone, e, n);
                    assert!((x - lon).abs() < 1e-11 && (y - lat).abs() < 1e-11, "{zone:?} {lon} {lat}");
                }
            }
        }
    }
}
