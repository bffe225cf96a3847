"""The furniture catalog: the item `ref`s both renderers know, with their kind and a typical size in cm.

The 2D renderer draws a top-view symbol per kind, the 3D renderer a model per kind, each sized by the plan
item's own width, depth and height. A ref the catalog does not know is drawn as a plain box of its size.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogItem:
    """One piece of furniture or fitting: its ref, shape family and default size."""

    ref: str
    kind: str  # the shape family: one 2D symbol and one 3D model per kind
    label: str
    width: float
    depth: float
    height: float


_ITEMS = [
    # ref, kind, label, width, depth, height
    ("bed_single", "bed", "Single bed", 90, 200, 50),
    ("bed_double", "bed", "Double bed", 160, 200, 50),
    ("bed", "bed", "Bed", 160, 200, 50),
    ("bunk_bed", "bed", "Bunk bed", 90, 200, 160),
    ("crib", "crib", "Crib", 60, 120, 90),
    ("sofa", "sofa", "Sofa", 200, 90, 80),
    ("sofa_corner", "sofa_corner", "Corner sofa", 250, 200, 80),
    ("armchair", "armchair", "Armchair", 80, 80, 80),
    ("coffee_table", "table", "Coffee table", 110, 60, 45),
    ("dining_table", "table", "Dining table", 180, 90, 75),
    ("round_table", "round_table", "Round table", 110, 110, 75),
    ("table", "table", "Table", 140, 80, 75),
    ("desk", "desk", "Desk", 140, 70, 75),
    ("chair", "chair", "Chair", 45, 50, 90),
    ("office_chair", "chair", "Office chair", 60, 60, 110),
    ("stool", "stool", "Stool", 40, 40, 65),
    ("wardrobe", "wardrobe", "Wardrobe", 200, 60, 220),
    ("dresser", "cabinet", "Dresser", 120, 50, 85),
    ("nightstand", "cabinet", "Nightstand", 45, 40, 55),
    ("bookshelf", "shelf", "Bookshelf", 100, 35, 200),
    ("tv_stand", "cabinet", "TV stand", 160, 45, 50),
    ("kitchen_counter", "counter", "Kitchen counter", 240, 60, 90),
    ("counter", "counter", "Counter", 240, 60, 90),
    ("kitchen_island", "counter", "Kitchen island", 180, 90, 90),
    ("sink_kitchen", "kitchen_sink", "Kitchen sink", 80, 60, 90),
    ("stove", "stove", "Stove", 60, 60, 90),
    ("oven", "stove", "Oven", 60, 60, 90),
    ("fridge", "fridge", "Fridge", 60, 65, 180),
    ("dishwasher", "appliance", "Dishwasher", 60, 60, 85),
    ("washing_machine", "washer", "Washing machine", 60, 60, 85),
    ("dryer", "washer", "Dryer", 60, 60, 85),
    ("toilet", "toilet", "Toilet", 40, 65, 80),
    ("basin", "basin", "Basin", 60, 45, 85),
    ("sink", "basin", "Sink", 60, 45, 85),
    ("double_basin", "basin", "Double basin", 120, 50, 85),
    ("bathtub", "bathtub", "Bathtub", 170, 75, 55),
    ("shower", "shower", "Shower", 90, 90, 210),
    ("bidet", "toilet", "Bidet", 40, 55, 40),
    ("plant", "plant", "Plant", 50, 50, 120),
    ("rug", "rug", "Rug", 200, 140, 1),
    ("piano", "piano", "Piano", 150, 60, 120),
    ("fireplace", "fireplace", "Fireplace", 120, 40, 110),
    ("stairs", "stairs", "Stairs", 100, 300, 280),
    ("bed_king", "bed", "King-size bed", 180, 200, 50),
    ("loveseat", "sofa", "Loveseat", 150, 85, 80),
    ("cabinet", "cabinet", "Cabinet", 80, 45, 90),
    ("sideboard", "cabinet", "Sideboard", 160, 45, 80),
    ("floor_lamp", "lamp", "Floor lamp", 40, 40, 160),
]

CATALOG: dict[str, CatalogItem] = {ref: CatalogItem(ref, kind, label, w, d, h) for ref, kind, label, w, d, h in _ITEMS}
KINDS = sorted({item.kind for item in CATALOG.values()})


def lookup(ref: str) -> CatalogItem | None:
    """The catalog entry of a ref (case and separators are forgiven: "Dining Table" finds dining_table)."""
    return CATALOG.get(ref) or CATALOG.get(ref.strip().lower().replace(" ", "_").replace("-", "_"))
