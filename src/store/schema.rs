//! Diesel's view of the tables; the same for both backends (see migrations/).

diesel::table! {
    datasets (version) {
        version -> BigInt,
        title -> Text,
        source -> Text,
        boundary_version -> Text,
        content_hash -> Text,
        imported_at -> Text,
        active -> Bool,
        criteria_indicators -> Nullable<Text>,
    }
}

diesel::table! {
    indicators (dataset_version, code) {
        dataset_version -> BigInt,
        code -> Text,
        position -> Integer,
        name_da -> Text,
        name_en -> Text,
        kind -> Text,
        direction -> Text,
        population_da -> Text,
        population_en -> Text,
        description_da -> Nullable<Text>,
        description_en -> Nullable<Text>,
    }
}

diesel::table! {
    municipalities (dataset_version, code) {
        dataset_version -> BigInt,
        code -> Integer,
        name -> Text,
        region_code -> Nullable<Text>,
        cvr -> Nullable<Text>,
    }
}

diesel::table! {
    organisations (dataset_version, organisation_id) {
        dataset_version -> BigInt,
        organisation_id -> Text,
        name -> Text,
        cvr -> Text,
    }
}

diesel::table! {
    plans (dataset_version, plan_id) {
        dataset_version -> BigInt,
        plan_id -> Text,
        area_id -> Text,
        name -> Text,
        from_year -> Integer,
        to_year -> Integer,
    }
}

diesel::table! {
    plan_departments (dataset_version, plan_id, department_id) {
        dataset_version -> BigInt,
        plan_id -> Text,
        department_id -> Text,
    }
}

diesel::table! {
    departments (dataset_version, department_id) {
        dataset_version -> BigInt,
        department_id -> Text,
        name -> Text,
        municipality_code -> Integer,
        organisation -> Nullable<Text>,
    }
}

diesel::table! {
    areas (dataset_version, area_id) {
        dataset_version -> BigInt,
        area_id -> Text,
        position -> Integer,
        name -> Text,
        municipality_code -> Integer,
    }
}

diesel::table! {
    area_departments (dataset_version, boundary_version, department_id) {
        dataset_version -> BigInt,
        boundary_version -> Text,
        department_id -> Text,
        area_id -> Text,
    }
}

diesel::table! {
    department_observations (dataset_version, department_id, indicator, year) {
        dataset_version -> BigInt,
        department_id -> Text,
        indicator -> Text,
        year -> Integer,
        numerator -> Double,
        denominator -> BigInt,
    }
}

diesel::table! {
    // unique on (dataset_version, level, coalesce(municipality_code, 0), indicator, year)
    reference_observations (dataset_version, level, indicator, year) {
        dataset_version -> BigInt,
        level -> Text,
        municipality_code -> Nullable<Integer>,
        indicator -> Text,
        year -> Integer,
        numerator -> Double,
        denominator -> BigInt,
    }
}

diesel::table! {
    area_geometries (dataset_version, area_id) {
        dataset_version -> BigInt,
        area_id -> Text,
        geometry -> Text,
        min_lon -> Double,
        min_lat -> Double,
        max_lon -> Double,
        max_lat -> Double,
    }
}

diesel::table! {
    municipality_geometries (dataset_version, municipality_code) {
        dataset_version -> BigInt,
        municipality_code -> Integer,
        geometry -> Text,
    }
}

diesel::table! {
    region_observations (dataset_version, region_code, indicator, year) {
        dataset_version -> BigInt,
        region_code -> Text,
        indicator -> Text,
        year -> Integer,
        numerator -> Double,
        denominator -> BigInt,
    }
}

diesel::table! {
    dataset_aggregates (dataset_version) {
        dataset_version -> BigInt,
        area_sums -> Binary,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Text,
        sub -> Nullable<Text>,
        cvr -> Nullable<Text>,
        client_id -> Nullable<Text>,
        jti -> Nullable<Text>,
        route -> Text,
        departments -> Text,
        dataset_version -> Nullable<BigInt>,
        status -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    dataset_aggregates,
    datasets,
    indicators,
    municipalities,
    departments,
    areas,
    area_departments,
    department_observations,
    reference_observations,
    area_geometries,
    municipality_geometries,
    region_observations,
    organisations,
    plans,
    plan_departments,
);
