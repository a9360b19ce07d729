"""A small program with the Python client that openapi-python-client generates from
openapi/openapi.json, as a municipal integration would write it: every /v1 operation, each
answer read through the generated types, problem details for bad input, and the downloads.

usage: python3 python_program.py CLIENT_PARENT_DIR BASE_URL ADMIN_TOKEN EXTRACT.zip ACCESS_TOKEN

ACCESS_TOKEN: an access token of a demo organisation, for the signed-in operations.

CLIENT_PARENT_DIR holds the generated package `boligsocial_client`. Exits non-zero (an
assertion) on the first answer that is not what the document promises.
"""
import io
import json
import sys
import zipfile

sys.path.insert(0, sys.argv[1])
BASE, TOKEN, EXTRACT, ACCESS = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

from boligsocial_client import AuthenticatedClient, Client  # noqa: E402
from boligsocial_client.api.admin import activate, audit, import_  # noqa: E402
from boligsocial_client.api.me import (  # noqa: E402
    department_comparisons,
    department_comparisons_csv,
    department_comparisons_xlsx,
    department_series,
    department_series_csv,
    department_series_xlsx,
    get_me,
    list_departments,
    selection_series,
)
from boligsocial_client.api.areas import (  # noqa: E402
    get_area,
    get_area_plans,
    get_series,
    get_series_csv,
    get_series_jsonstat,
    get_series_xlsx,
    list_areas,
)
from boligsocial_client.api.comparisons import (  # noqa: E402
    comparison_chart,
    get_area_comparisons,
    get_comparisons,
    get_comparisons_coverage,
    get_comparisons_csv,
    get_comparisons_jsonstat,
    get_comparisons_xlsx,
)
from boligsocial_client.api.criteria import (  # noqa: E402
    get_area_criteria,
    get_area_criteria_csv,
    get_area_criteria_xlsx,
    get_criteria,
    get_criteria_csv,
    get_criteria_jsonstat,
    get_criteria_xlsx,
    get_rules,
    list_rules,
)
from boligsocial_client.api.datasets import get_datapackage, list_datasets  # noqa: E402
from boligsocial_client.api.indicators import get_indicator, list_indicators  # noqa: E402
from boligsocial_client.api.map_ import map_areas, map_municipalities  # noqa: E402
from boligsocial_client.api.municipalities import get_municipality, list_municipalities  # noqa: E402
from boligsocial_client import models  # noqa: E402
from boligsocial_client.models import Lang, Reference  # noqa: E402
from boligsocial_client.types import File  # noqa: E402

client = Client(base_url=BASE)
admin = AuthenticatedClient(base_url=BASE, token=TOKEN)
called = []


def ok(response, kind, status=200):
    """The answer's status is `status` and its body parsed into `kind`."""
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert isinstance(response.parsed, kind), (kind, type(response.parsed), response.content[:200])
    called.append(kind.__name__)
    return response.parsed


def problem(response, status):
    """A problem details answer with `status`."""
    p = ok(response, models.ProblemDetails, status)
    assert p.status == status and p.title and p.detail, p
    return p


# the catalogue
indicators = ok(list_indicators.sync_detailed(client=client, lang=Lang.EN), models.IndicatorList)
indicator = indicators.items[0]
assert indicator.name == indicator.name_en
first, last = indicator.years[0], indicator.years[-1]
one = ok(get_indicator.sync_detailed(indicator.code, client=client), models.IndicatorDetail)
assert one.code == indicator.code
problem(get_indicator.sync_detailed("no_such_indicator", client=client), 404)

municipalities = ok(list_municipalities.sync_detailed(client=client, with_areas=True), models.MunicipalityList)
assert municipalities.count == len(municipalities.items) > 0
areas = ok(list_areas.sync_detailed(client=client), models.AreaList)
area = areas.items[0]
assert areas.count == len(areas.items)
municipality = ok(get_municipality.sync_detailed(area.municipality_code, client=client), models.MunicipalityDetail)
assert municipality.code == area.municipality_code
in_municipality = ok(list_areas.sync_detailed(client=client, municipality=area.municipality_code), models.AreaList)
assert all(a.municipality_code == area.municipality_code for a in in_municipality.items)
detail = ok(get_area.sync_detailed(area.area_id, client=client), models.AreaDetail)
assert detail.area_id == area.area_id and detail.departments
problem(get_area.sync_detailed("no-such-area", client=client), 404)

# an area's series, in every format
series = ok(get_series.sync_detailed(area.area_id, client=client, indicator=indicator.code), models.SeriesResponse)
years = [p.year for p in series.series.area]
assert years == sorted(years) and years, years
assert series.series.country, "the country's series"
csv = ok(get_series_csv.sync_detailed(area.area_id, client=client, indicator=indicator.code), str)
assert csv.startswith("\ufeff") and "series;year" in csv.splitlines()[0], csv[:80]
stat = ok(get_series_jsonstat.sync_detailed(area.area_id, client=client, indicator=indicator.code), models.JsonStatDataset)
assert stat.version == "2.0" and stat.class_ == "dataset"
assert len(stat.value) == eval("*".join(map(str, stat.size))), "a value per cell"
book = ok(get_series_xlsx.sync_detailed(area.area_id, client=client, indicator=indicator.code), File)
assert zipfile.ZipFile(io.BytesIO(book.payload.read())).namelist(), "a workbook is a zip"
problem(get_series.sync_detailed(area.area_id, client=client, indicator="no_such_indicator"), 400)

# comparisons, in every format
query = dict(indicator=indicator.code, from_=first, to=last, reference=Reference.MUNICIPALITY)
comparisons = ok(get_comparisons.sync_detailed(client=client, **query), models.ComparisonsResponse)
assert comparisons.summary.areas == len(comparisons.items) == areas.count
assert comparisons.from_ == first and comparisons.to == last
bad = problem(get_comparisons.sync_detailed(client=client, indicator=indicator.code, from_=last, to=first), 400)
assert bad.parameter in ("from", "to"), bad
csv = ok(get_comparisons_csv.sync_detailed(client=client, lang=Lang.EN, **query), str)
assert len(csv.strip().splitlines()) == len(comparisons.items) + 1
stat = ok(get_comparisons_jsonstat.sync_detailed(client=client, **query), models.JsonStatDataset)
assert stat.size[0] == len(comparisons.items)
book = ok(get_comparisons_xlsx.sync_detailed(client=client, **query), File)
assert book.payload.read(2) == b"PK"
chart = comparison_chart.sync_detailed(client=client, **query)
assert chart.status_code == 200 and b"<svg" in chart.content[:200], chart.content[:100]
called.append("chart")
by_indicator = ok(get_area_comparisons.sync_detailed(area.area_id, client=client, reference=Reference.COUNTRY), models.AreaComparisonsResponse)
assert {c.indicator for c in by_indicator.items} <= {i.code for i in indicators.items}

# coverage: the summary for every covered_years, and an area's plans
coverage = ok(get_comparisons_coverage.sync_detailed(client=client, **query), models.CoverageResponse)
assert [i.covered_years for i in coverage.items] == list(range(last - first + 2)), coverage.items
assert coverage.items[0].summary.to_dict() == comparisons.summary.to_dict(), "N = 0 is the note's method"
throughout = ok(get_comparisons.sync_detailed(client=client, covered_years=last - first + 1, **query), models.ComparisonsResponse)
assert throughout.summary.to_dict() == coverage.items[-1].summary.to_dict()
assert all(i.departments_used + i.departments_left_out > 0 for i in throughout.items)
plans = ok(get_area_plans.sync_detailed(area.area_id, client=client, indicator=indicator.code), models.PlansResponse)
assert plans.area_id == area.area_id and all(p.from_year <= p.to_year for p in plans.plans), plans

# the legal criteria
rules = ok(list_rules.sync_detailed(client=client), models.RulesResponse)
rule_set = ok(get_rules.sync_detailed(rules.items[0].id, client=client), models.RuleSetResponse)
assert rule_set.id == rules.items[0].id
year = rules.years[-1]
criteria = ok(get_criteria.sync_detailed(client=client, year=year), models.CriteriaResponse)
assert criteria.year == year and len(criteria.items) == areas.count
problem(get_criteria.sync_detailed(client=client, year=year, rules="no-such-rules"), 400)
csv = ok(get_criteria_csv.sync_detailed(client=client, year=year), str)
assert len(csv.strip().splitlines()) == len(criteria.items) + 1
stat = ok(get_criteria_jsonstat.sync_detailed(client=client, year=year), models.JsonStatDataset)
assert stat.size[0] == len(criteria.items)
book = ok(get_criteria_xlsx.sync_detailed(client=client, year=year), File)
assert book.payload.read(2) == b"PK"
area_criteria = ok(get_area_criteria.sync_detailed(area.area_id, client=client), models.AreaCriteriaResponse)
assert area_criteria.area_id == area.area_id and area_criteria.years
csv = ok(get_area_criteria_csv.sync_detailed(area.area_id, client=client), str)
assert area.area_id in csv
book = ok(get_area_criteria_xlsx.sync_detailed(area.area_id, client=client), File)
assert book.payload.read(2) == b"PK"

# the map layers, typed to their properties
layer = ok(map_areas.sync_detailed(client=client, indicator=indicator.code, year=last), models.AreaLayer)
assert len(layer.features) == areas.count
feature = layer.features[0]
assert isinstance(feature, models.AreaFeature) and feature.properties.area_id == feature.id
assert isinstance(feature.geometry, (models.Polygon, models.MultiPolygon)), type(feature.geometry)
assert feature.properties.status in ("ok", "suppressed", "missing")
outlines = ok(map_municipalities.sync_detailed(client=client), models.MunicipalityLayer)
assert all(f.properties.code == f.id for f in outlines.features)

# the dataset versions and the whole dataset
datasets = ok(list_datasets.sync_detailed(client=client), models.DatasetList)
served = datasets.served_version
package = ok(get_datapackage.sync_detailed(client=client), File)
with zipfile.ZipFile(io.BytesIO(package.payload.read())) as z:
    descriptor = json.loads(z.read("datapackage.json"))
    assert {r["path"] for r in descriptor["resources"]} <= set(z.namelist())

# signed in as a housing organisation: its own departments, with the access token
me_client = AuthenticatedClient(base_url=BASE, token=ACCESS)
me = ok(get_me.sync_detailed(client=me_client), models.Me)
assert me.departments > 0, me
mine = ok(list_departments.sync_detailed(client=me_client), models.DepartmentList)
department = mine.items[0].department_id
own = ok(department_series.sync_detailed(department, client=me_client, indicator=indicator.code), models.DepartmentSeriesResponse)
assert own.department_id == department and own.series.department, own
assert department in ok(department_series_csv.sync_detailed(department, client=me_client, indicator=indicator.code), str)
book = ok(department_series_xlsx.sync_detailed(department, client=me_client, indicator=indicator.code), File)
assert zipfile.is_zipfile(io.BytesIO(book.payload.read()))
pair = ",".join(d.department_id for d in mine.items[:2])
ok(selection_series.sync_detailed(client=me_client, departments=pair, indicator=indicator.code), models.SelectionResponse)
problem(selection_series.sync_detailed(client=me_client, departments="NO-SUCH", indicator=indicator.code), 404)
mine_query = dict(indicator=indicator.code, from_=first, to=last, reference="area")
compared = ok(department_comparisons.sync_detailed(client=me_client, **mine_query), models.DepartmentComparisonsResponse)
assert len(compared.items) == me.departments, compared
assert department in ok(department_comparisons_csv.sync_detailed(client=me_client, **mine_query), str)
book = ok(department_comparisons_xlsx.sync_detailed(client=me_client, **mine_query), File)
problem(get_me.sync_detailed(client=Client(base_url=BASE)), 401)
records = ok(audit.sync_detailed(client=admin, since="2000-01-01"), models.AuditLog)
assert records.count == len(records.items) > 0 and records.items[0].sub, records

# the administration: a token is needed, an extract is imported, the old version activated again
problem(import_.sync_detailed(client=AuthenticatedClient(base_url=BASE, token="wrong"), body=File(payload=b"PK")), 401)
with open(EXTRACT, "rb") as f:
    imported = ok(import_.sync_detailed(client=admin, body=File(payload=f.read(), mime_type="application/zip")), models.ImportResult, 201)
assert imported.dataset_version > served, (imported, served)
rejected = problem(import_.sync_detailed(client=admin, body=File(payload=b"not a zip", mime_type="application/zip")), 422)
assert rejected.problems, "a rejected import lists its problems"
back = ok(activate.sync_detailed(served, client=admin), models.Activated)
assert back.active and back.dataset_version == served
problem(activate.sync_detailed(999_999, client=admin), 404)

print(json.dumps({"answers": len(called)}))
