"""IU X-ray MeSH indexing -> CheXpert conditions (used by benchmarks/rules_labeler_mesh.py).

Written from the MeSH headings and the IU indexers' own terms (the ``<MeSH><major>`` entries read
``Heading/qualifier/qualifier...``), before any F1 was computed, and not tuned afterwards. A rule is
(heading, qualifiers of which one must be present or None for any, condition). Only ``<major>``
entries are used: they are the indexers' manual coding of the findings; ``<automatic>`` entries
are a text-mining tool's output on the same report (a second labeler, not a reference).
"""

from __future__ import annotations

# Qualifiers that put a finding outside the lung, so a lung-finding heading does not apply.
NON_LUNG = frozenset({
    "breast", "nipple", "ribs", "clavicle", "shoulder", "humerus", "spine", "thoracic vertebrae",
    "lumbar vertebrae", "cervical vertebrae", "sternum", "abdomen", "neck", "scapula", "bone and bones",
    "soft tissue", "skin", "adipose tissue",
})

#: (MeSH heading, required qualifiers or None, CheXpert condition)
MESH_RULES: list[tuple[str, frozenset | None, str]] = [
    ("normal", None, "No Finding"),  # the indexers' term for a report with no finding
    ("Cardiomegaly", None, "Cardiomegaly"),  # same concept
    ("Cardiac Shadow", frozenset({"enlarged"}), "Cardiomegaly"),  # enlarged cardiac silhouette
    ("Mediastinum", frozenset({"prominent", "enlarged", "widened", "wide"}),
     "Enlarged Cardiomediastinum"),  # a widened/prominent mediastinal contour
    ("Opacity", None, "Lung Opacity"),  # MeSH/IU 'Opacity' (lung sites; NON_LUNG excluded)
    ("Airspace Disease", None, "Lung Opacity"),  # CheXpert names airspace disease an opacity
    ("Infiltrate", None, "Lung Opacity"),  # infiltrate is a lung opacity
    ("Density", None, "Lung Opacity"),  # increased lung density (NON_LUNG excluded)
    ("Lung Diseases, Interstitial", None, "Lung Opacity"),  # interstitial opacities
    ("Markings", None, "Lung Opacity"),  # increased interstitial/bronchovascular markings
    ("Cicatrix", frozenset({"lung"}), "Lung Opacity"),  # parenchymal scar (CheXpert: opacity)
    ("Nodule", None, "Lung Lesion"),  # nodule (NON_LUNG excluded)
    ("Mass", None, "Lung Lesion"),  # mass (NON_LUNG excluded)
    ("Cavitation", None, "Lung Lesion"),  # cavitary lesion
    ("Pulmonary Edema", None, "Edema"),  # same concept
    ("Pulmonary Congestion", None, "Edema"),  # CheXpert: pulmonary/vascular congestion is edema
    ("Heart Failure", None, "Edema"),  # CheXpert: heart failure / CHF is an edema mention
    ("Consolidation", None, "Consolidation"),  # same concept
    ("Pneumonia", None, "Pneumonia"),  # same concept
    ("Pulmonary Atelectasis", None, "Atelectasis"),  # same concept
    ("Pneumothorax", None, "Pneumothorax"),  # same concept
    ("Hydropneumothorax", None, "Pneumothorax"),  # air (and fluid) in the pleural space
    ("Hemopneumothorax", None, "Pneumothorax"),  # air (and blood) in the pleural space
    ("Pleural Effusion", None, "Pleural Effusion"),  # same concept
    ("Hydropneumothorax", None, "Pleural Effusion"),  # fluid (and air) in the pleural space
    ("Hemopneumothorax", None, "Pleural Effusion"),  # blood (and air) in the pleural space
    ("Hemothorax", None, "Pleural Effusion"),  # blood in the pleural space
    ("Costophrenic Angle", frozenset({"blunted"}), "Pleural Effusion"),  # CheXpert: blunting
    ("Thickening", frozenset({"pleura"}), "Pleural Other"),  # pleural thickening
    ("Cicatrix", frozenset({"pleura"}), "Pleural Other"),  # pleural scar
    ("Fractures, Bone", None, "Fracture"),  # same concept
    ("Rib Fractures", None, "Fracture"),  # a fracture
    ("Catheters, Indwelling", None, "Support Devices"),  # lines and catheters
    ("Tube, Inserted", None, "Support Devices"),  # tubes
    ("Implanted Medical Device", None, "Support Devices"),  # pacemakers, ICDs, valves, wires
    ("Medical Device", None, "Support Devices"),  # any other device
    ("Stents", None, "Support Devices"),  # stents (a device the labeler counts)
    # Deliberately not mapped: "Surgical Instruments" (the IU term for surgical clips; CheXpert's
    # support-device phrases name no clip), "Sutures", "Spinal Fusion" (a procedure), "Foreign
    # Bodies", "Breast Implants", "Granuloma"/"Calcified Granuloma"/"Granulomatous Disease"
    # (CheXpert does not call a calcified granuloma a lung lesion), "Pulmonary Fibrosis" (parenchymal,
    # not pleural, although CheXpert's phrase list files "fibrosis" under Pleural Other).
]


def conditions_of(major_terms: list[str]) -> set[str]:
    """CheXpert conditions named by one report's ``<major>`` MeSH entries."""
    out: set[str] = set()
    for term in major_terms:
        parts = [p.strip() for p in term.split("/")]
        heading, quals = parts[0], {p.lower() for p in parts[1:]}
        for head, need, cond in MESH_RULES:
            if head != heading or (need is not None and not (need & quals)):
                continue
            if cond in {"Lung Opacity", "Lung Lesion"} and quals & NON_LUNG and "lung" not in quals:
                continue
            out.add(cond)
    return out
