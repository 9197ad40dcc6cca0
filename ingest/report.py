"""The outcome of one ingest run: counts, bad items with reasons, speed; kept as JSON in the store folder."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPORT_DIR = "reports"
STAGES = ("decode", "wait", "model", "write")


@dataclass
class Timing:
    """Seconds spent per stage over a run: decode (in the workers, summed), wait (the encoder idle for a batch),
    model (encode), write (store commits, in the writer thread); with the batch and commit counts, and `load`, the
    seconds the model took to load (once, before the first batch)."""

    load: float = 0.0
    decode: float = 0.0
    wait: float = 0.0
    model: float = 0.0
    write: float = 0.0
    batches: int = 0
    commits: int = 0
    workers: int = 1

    def per_batch_ms(self) -> dict[str, float]:
        """Each stage's milliseconds per batch."""
        return {stage: round(1000.0 * getattr(self, stage) / max(1, self.batches), 2) for stage in STAGES}

    def bottleneck(self) -> str:
        """The stage that bounds the rate: decode (per worker), model or write (the stages run in parallel)."""
        loads = {"decode": self.decode / max(1, self.workers), "model": self.model, "write": self.write}
        return max(loads, key=loads.__getitem__) if self.batches else "none"

    def line(self) -> str:
        """One line for the progress bar: the model's load, ms per batch of each stage, commits, bottleneck."""
        ms = self.per_batch_ms()
        return (f"model load {self.load:.2f} s; ms/batch decode {ms['decode']:.1f} ({self.workers} workers), "
                f"wait {ms['wait']:.1f}, model {ms['model']:.1f}, write {ms['write']:.1f}; {self.commits} commits; "
                f"bottleneck {self.bottleneck()}")

    def to_dict(self) -> dict:
        """A JSON-ready dict: totals, ms per batch, bottleneck."""
        return {**asdict(self), "ms_per_batch": self.per_batch_ms(), "bottleneck": self.bottleneck()}


@dataclass
class IngestReport:
    """What an ingest run did."""

    store: str
    dataset: str
    model: str
    engine: str
    selected: int = 0
    already_embedded: int = 0
    embedded: int = 0
    bad: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    precomputed: bool = False
    precompute_error: str = ""
    report_path: str = ""
    timing: Timing = field(default_factory=Timing)

    @property
    def items_per_second(self) -> float:
        """Items decoded and embedded per second of this run."""
        return (self.embedded + len(self.bad)) / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {**asdict(self), "timing": self.timing.to_dict(), "bad_count": len(self.bad),
                "items_per_second": round(self.items_per_second, 2)}

    def write(self) -> Path:
        """Write the report to <store>/reports/ingest-<dataset>-<model>.json (the latest run of that pair)."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"ingest-{self.dataset}-{self.model}")
        path = Path(self.store) / REPORT_DIR / f"{slug}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.report_path = str(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str), encoding="utf-8")
        return path

    def summary(self, shown: int = 10) -> str:
        """A few lines for the terminal."""
        lines = [f"ingest {self.dataset} x {self.model} ({self.engine}): {self.selected} selected, "
                 f"{self.already_embedded} already embedded, {self.embedded} embedded, {len(self.bad)} bad, "
                 f"{self.seconds:.1f} s ({self.items_per_second:.1f} items/s)"]
        if self.timing.batches:
            lines.append(f"  {self.timing.line()}")
        if self.precompute_error:
            lines.append(f"  precompute skipped: {self.precompute_error}")
        lines += [f"  bad {b['item_id']}: {b['reason']}" for b in self.bad[:shown]]
        if len(self.bad) > shown:
            lines.append(f"  ... {len(self.bad) - shown} more in {self.report_path}")
        elif self.report_path:
            lines.append(f"  report: {self.report_path}")
        return "\n".join(lines)
