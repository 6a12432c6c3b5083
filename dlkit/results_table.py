"""The "your result vs reference" table that ends every lab."""

import html

RESULTS_MIME = "application/vnd.dlkit.results+json"


def _text(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class ResultsTable:
    """Rows of measured results next to reference numbers, shown as a table at the end of a lab.

    One row is the lab's headline: `dlkit labs run` (and `make run`) reads it from the executed notebook and
    prints it next to its reference. In Jupyter the table renders as HTML; it also carries a machine-readable
    copy of its rows (MIME type `application/vnd.dlkit.results+json`).

    Example:

    >>> table = ResultsTable("01 initialization")
    >>> table.add("He init: test accuracy", f"{acc:.1%}", "96%", headline=True)
    >>> table  # last expression of the cell: displays it

    Args:
        title: String. The lab's title.
    """

    def __init__(self, title):
        if not isinstance(title, str) or not title:
            raise ValueError(f"Argument `title` must be a non-empty string. Received: title={title!r}")
        self.title = title
        self.rows = []

    def add(self, quantity, measured, reference, *, headline=False, note=""):
        """Adds a row.

        Args:
            quantity: String. What was measured.
            measured: Number or string. This run's value.
            reference: Number or string. The published or expected value.
            headline: Boolean. Whether this row is the lab's headline result (at most one).
            note: String. An optional remark.

        Returns:
            The table, so calls can be chained.

        Raises:
            ValueError: on an empty `quantity` or a second headline row.
        """
        if not isinstance(quantity, str) or not quantity:
            raise ValueError(
                f"Argument `quantity` must be a non-empty string. Received: quantity={quantity!r}"
            )
        if headline and self.headline is not None:
            raise ValueError(f"Table already has a headline row: {self.headline['quantity']!r}")
        self.rows.append(
            {
                "quantity": quantity,
                "measured": _text(measured),
                "reference": _text(reference),
                "headline": bool(headline),
                "note": str(note),
            }
        )
        return self

    @property
    def headline(self):
        """The headline row (a dict), or None."""
        return next((row for row in self.rows if row["headline"]), None)

    def to_dict(self):
        return {"title": self.title, "rows": list(self.rows)}

    def __str__(self):
        header = ("quantity", "measured", "reference")
        widths = [
            max(len(header[i]), *(len(row[k]) for row in self.rows)) if self.rows else len(header[i])
            for i, k in enumerate(("quantity", "measured", "reference"))
        ]
        lines = [self.title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            mark = " *" if row["headline"] else ""
            lines.append(
                "  ".join(row[k].ljust(w) for k, w in zip(("quantity", "measured", "reference"), widths))
                + mark
            )
        return "\n".join(lines)

    def _repr_html_(self):
        cells = "".join(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                ' style="font-weight:bold"' if row["headline"] else "",
                *(html.escape(row[k]) for k in ("quantity", "measured", "reference", "note")),
            )
            for row in self.rows
        )
        return (
            f"<h4>{html.escape(self.title)}: your result vs reference</h4><table><thead><tr><th>quantity</th>"
            f"<th>measured</th><th>reference</th><th>note</th></tr></thead><tbody>{cells}</tbody></table>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": str(self), "text/html": self._repr_html_(), RESULTS_MIME: self.to_dict()}
