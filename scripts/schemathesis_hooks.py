"""schemathesis hooks for scripts/schemathesis.sh: the import's body is a zip of an extract
(application/zip), which schemathesis cannot make from the document's binary string by itself.
It gets arbitrary bytes, and zips that are no extract: each must be refused with a 4xx."""
import io
import zipfile

from hypothesis import strategies as st

import schemathesis


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


zips = st.one_of(
    st.binary(max_size=2048),
    st.dictionaries(st.sampled_from(["manifest.json", "areas.csv", "observations.csv", "../escape.csv", "x/indicators.csv"]),
                    st.text(max_size=200), max_size=4).map(_zip),
)
schemathesis.openapi.media_type("application/zip", zips)
