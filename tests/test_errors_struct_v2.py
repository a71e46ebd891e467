"""errors_struct counter v2: one or more hand-written pairs per rule of the counting specification
(docs/errors.md, "Counting rules, v2"), the reward hacks the rules must catch, the v1 option, and the
signature. Every expected count below was reasoned from the specification by hand, not read off the counter.

Expected counts are written as in tests/data/error_count_pairs.csv: "sig_A=1;insig_D=1" (others 0).
"""

from __future__ import annotations

import json
import tarfile
import xml.etree.ElementTree as ET

import pytest

from rexeval.base.exceptions import ConfigError
from rexeval.metrics.error_schema import COUNT_SUFFIXES
from rexeval.metrics.errors_struct import (
    COUNTER_VERSION,
    ErrorsStruct,
    StructuredErrorCounter,
    make_counter,
)
from tests.helpers.paths import shared_path


@pytest.fixture(scope="module")
def counter():
    return StructuredErrorCounter()


def _expected(spec: str) -> list[int]:
    counts = dict.fromkeys(COUNT_SUFFIXES, 0)
    for part in filter(None, spec.split(";")):
        key, n = part.split("=")
        counts[key] = int(n)
    return [counts[k] for k in COUNT_SUFFIXES]


# (rule, reference, candidate, expected)
PAIRS = [
    # presence: negation lists, in any order or split
    ("negation list reordered", "No pleural effusion, pneumothorax, or consolidation.",
     "No pneumothorax, consolidation or pleural effusion.", ""),
    ("negation list member flipped", "No focal consolidation, pleural effusion or pneumothorax.",
     "No focal consolidation or pneumothorax. Small right pleural effusion.", "sig_A=1"),
    ("'without' list member flipped", "The lungs are clear without focal consolidation, effusion, or pneumothorax.",
     "The lungs are clear without focal consolidation or effusion. There is a pneumothorax on the left.", "sig_A=1"),
    ("whole negation list flipped", "There is no evidence of pneumothorax or pleural effusion.",
     "There is evidence of pneumothorax and pleural effusion.", "sig_A=2"),
    ("finding negated inside the candidate's list", "Small right pneumothorax. No effusion.",
     "No pneumothorax or effusion.", "sig_B=1"),
    # A / B and what makes them significant
    ("false major finding", "Heart size is normal. Lungs are clear.",
     "Heart size is normal. Lungs are clear. There is a moderate right pneumothorax.", "sig_A=1"),
    ("false finding, hedged", "Normal chest.", "Possible mild pulmonary edema.", "insig_A=1"),
    ("omitted major findings", "Right upper lobe mass. Small right pleural effusion.", "Normal chest.", "sig_B=2"),
    ("omitted minor: degenerative", "Mild degenerative changes of the spine.", "No acute abnormality.", "insig_B=1"),
    ("omitted chronic: healed fracture", "Old healed right rib fractures.", "No acute abnormality.", "insig_B=1"),
    ("omitted acute fracture", "Acute right rib fracture.", "No acute abnormality.", "sig_B=1"),
    ("omitted named abnormality: hernia", "Small hiatal hernia.", "No acute abnormality.", "sig_B=1"),
    ("omitted collapse (major atelectasis)", "Left lower lobe collapse.", "No acute disease.", "sig_B=1"),
    ("omitted plain atelectasis (minor)", "Low lung volumes with bibasilar atelectasis.", "Low lung volumes.",
     "insig_B=1"),
    ("cardiomegaly vs normal heart", "Enlarged cardiac silhouette.", "Normal heart size.", "sig_B=1"),
    # empty report
    ("empty candidate", "Normal chest.", "", "sig_B=1"),
    ("punctuation-only candidate", "Normal chest.", ".", "sig_B=1"),
    ("a lone XXXX is no statement", "Normal chest.", "XXXX.", "sig_B=1"),
    ("empty reference, normal candidate", ".", "Normal chest.", ""),
    # devices
    ("device inserted", "No acute process.", "Right-sided chest tube. No acute process.", "sig_A=1"),
    ("device omitted", "Left chest wall pacemaker.", "No acute disease.", "sig_B=1"),
    ("one of two devices omitted", "Orogastric tube tip in the stomach. Right IJ central line tip in the SVC.",
     "Orogastric tube tip in the stomach.", "sig_B=1"),
    ("other device type", "Tracheostomy tube in standard position.", "Endotracheal tube in standard position.",
     "sig_A=1;sig_B=1"),
    ("minor device omitted", "Median sternotomy wires. Normal heart size.", "Normal heart size.", "insig_B=1"),
    ("surgical clips omitted", "Cholecystectomy clips.", "No acute abnormality.", "insig_B=1"),
    ("stent omitted", "Stent in the left subclavian artery.", "Normal chest.", "sig_B=1"),
    ("prosthetic valve omitted", "Prosthetic aortic valve.", "Normal chest.", "sig_B=1"),
    ("spinal hardware omitted", "Spinal fusion hardware.", "Normal chest.", "insig_B=1"),
    ("device synonyms", "Dobhoff tube tip in the stomach.", "Feeding tube tip in the stomach.", ""),
    ("chest drain synonyms", "Pigtail catheter in the right pleural space.", "Right pleural drain.", ""),
    ("port and its catheter", "Left subclavian port with catheter tip in the SVC.", "Left chest port, tip in the SVC.",
     ""),
    ("XXXX beside a catheter", "Left-sided XXXX catheter with tip in the SVC.",
     "Left-sided central venous catheter with tip in the SVC.", ""),
    ("XXXX beside a pacemaker", "XXXX left-sided pacemaker.", "Left-sided pacemaker.", ""),
    ("XXXX wires are sternotomy wires", "Heart size normal.", "XXXX sternotomy wires. Heart size normal.",
     "insig_A=1"),
    ("device removed (resolved) but called present", "Interval removal of the right chest tube. No pneumothorax.",
     "Right chest tube in place. No pneumothorax.", "sig_A=1;sig_F=1"),
    # C: sides, zones, tips, malposition
    ("side swapped, major", "Moderate left pneumothorax.", "Moderate right pneumothorax.", "sig_C=1"),
    ("bilateral vs unilateral", "Bilateral pleural effusions.", "Left pleural effusion.", "sig_C=1"),
    ("unilateral vs bilateral", "Left pleural effusion.", "Bilateral pleural effusions.", "sig_C=1"),
    ("side omitted, major", "Small right pneumothorax.", "Small pneumothorax.", "sig_C=1"),
    ("side swapped, minor (granuloma)", "Calcified granuloma in the left lower lobe.",
     "Calcified granuloma in the right lower lobe.", "insig_C=1"),
    ("side swapped, minor (atelectasis)", "Right basilar atelectasis.", "Left basilar atelectasis.", "insig_C=1"),
    ("side swapped, lobar collapse", "Right lower lobe collapse.", "Left lower lobe collapse.", "sig_C=1"),
    # a bilateral side omitted: one side or both? (amended after the reward-check probes)
    ("bilateral side omitted, minor finding", "Mild bibasilar atelectasis.", "Atelectasis.", "insig_C=1"),
    ("bilateral side omitted, major", "Bilateral lower lobe consolidation.", "Lower lobe consolidation.", "sig_C=1"),
    ("both sides said by the plural", "Small bilateral pleural effusions.", "Small pleural effusions.", ""),
    ("both sides said by 'diffuse'", "Diffuse bilateral airspace opacities.", "Diffuse airspace opacities.", ""),
    ("a diffuse kind: bilateral assumed", "Bilateral pulmonary edema.", "Pulmonary edema.", ""),
    ("disjoint zones only", "Left upper lobe consolidation.", "Left lower lobe consolidation.", "insig_C=1"),
    ("device side swapped", "Right chest tube.", "Left chest tube.", "sig_C=1"),
    ("CVC side swapped", "Right internal jugular line tip at the cavoatrial junction.",
     "Left IJ catheter terminates at the cavoatrial junction.", "sig_C=1"),
    ("CVC paraphrase", "Right internal jugular line tip at the cavoatrial junction.",
     "Right IJ catheter terminates at the cavoatrial junction.", ""),
    ("ETT distance written differently", "Endotracheal tube terminates 5 cm above the carina.",
     "ET tube tip is 50 mm above the carina.", ""),
    ("ETT tip moved 3 cm", "Endotracheal tube terminates 5 cm above the carina.",
     "ET tube tip is 2 cm above the carina.", "sig_C=1"),
    ("enteric tube tip", "Nasogastric tube tip in the stomach.", "Nasogastric tube tip in the distal esophagus.",
     "sig_C=1"),
    ("CVC in the right atrium", "Right PICC line tip in the right atrium.", "Right PICC line tip in the SVC.",
     "sig_C=1"),
    ("ETT in a bronchus vs a stated good position", "Endotracheal tube in the right mainstem bronchus.",
     "Endotracheal tube in good position.", "sig_C=1"),
    ("coiled on one side only", "Feeding tube coiled in the stomach.", "Feeding tube in the stomach.", "sig_C=1"),
    ("pacemaker leads in the heart are not a side", "Left chest wall pacemaker with leads in the right atrium.",
     "Left chest wall pacemaker with leads in the right atrium.", ""),
    # D: grade, size, certainty
    ("grade 2 vs 4", "Large right pneumothorax.", "Small right pneumothorax.", "sig_D=1"),
    ("grade 2 vs 3", "Mild cardiomegaly.", "Moderate cardiomegaly.", "insig_D=1"),
    ("2.5 vs 3: under a step", "Small to moderate left pleural effusion.", "Moderate left pleural effusion.", ""),
    ("2 vs 3.5", "Small left pleural effusion.", "Moderate to large left pleural effusion.", "insig_D=1"),
    ("grade >= 3 omitted, major", "Moderate pulmonary edema.", "Pulmonary edema.", "sig_D=1"),
    ("grade >= 3 given as a size", "Moderate left pleural effusion.", "A 3 cm left pleural effusion.", ""),
    ("same size, other unit", "There is a 15 mm nodule in the left upper lobe.",
     "There is a 1.5 cm nodule in the left upper lobe.", ""),
    ("size ratio >= 1.5", "Right upper lobe mass measuring 4.2 cm.", "Right upper lobe mass measuring 2.2 cm.",
     "sig_D=1"),
    ("size 10 vs 11 mm: under 20 %", "Right upper lobe nodule measuring 10 mm.",
     "Right upper lobe nodule measuring 11 mm.", ""),
    ("size 10 vs 13 mm", "Right upper lobe nodule measuring 10 mm.", "Right upper lobe nodule measuring 13 mm.",
     "insig_D=1"),
    ("largest dimension", "2.0 x 1.5 cm right upper lobe mass.", "A 20 mm right upper lobe mass.", ""),
    ("definite hedged", "Right lower lobe pneumonia.", "Right lower lobe pneumonia is not excluded.", "sig_D=1"),
    ("hedge made definite", "Right lower lobe pneumonia cannot be excluded.", "Right lower lobe pneumonia.",
     "insig_D=1"),
    ("X versus Y made definite", "Left basilar atelectasis versus pneumonia.", "Left basilar pneumonia.",
     "insig_B=1;insig_D=1"),
    ("severity of a named abnormality", "Severe emphysema.", "Mild emphysema.", "sig_D=1"),
    ("scarring does not stand for a new consolidation", "Biapical scarring.",
     "Biapical scarring. Focal consolidation.", "sig_A=1"),
    ("an opacity named by its interpretation, on the other side", "Right upper lobe opacity.",
     "Left upper lobe pneumonia.", "sig_C=1;insig_A=1"),
    ("each member of 'no new X or Y' is stable", "No effusion or pneumothorax.",
     "No new effusion or pneumothorax.", "insig_E=2"),
    ("an opacity named by its interpretation", "Right lower lobe opacity.", "Right lower lobe pneumonia.",
     "insig_A=1"),
    ("a calcified nodule is a granuloma (one minor kind)", "Calcified granuloma.",
     "Calcified right lower lobe nodule.", ""),
    # E / F: temporal status
    ("stable claimed for a worse finding", "Interval increase in size of right pleural effusion.",
     "Right pleural effusion is unchanged.", "sig_E=1"),
    ("opposite change", "Right pleural effusion is smaller.", "Right pleural effusion is larger.", "sig_E=1"),
    ("change paraphrased", "Right pleural effusion is smaller.", "Right pleural effusion has decreased in size.", ""),
    ("new vs worse", "New left lower lobe consolidation.", "Worsening left lower lobe consolidation.", "sig_E=1"),
    ("stable claimed, reference silent", "Right IJ catheter tip in the SVC.",
     "Right IJ catheter tip in the SVC, unchanged.", "sig_E=1"),
    ("stable omitted is no F", "Cardiomegaly is unchanged. Lungs are clear.",
     "The heart is enlarged. Lungs are clear.", ""),
    ("better omitted", "Improved pulmonary edema.", "Pulmonary edema.", "sig_F=1"),
    ("new omitted", "Left lower lobe consolidation is new.", "Left lower lobe consolidation.", "sig_F=1"),
    ("stable claimed for an absent finding", "No pneumothorax.", "No pneumothorax. No new effusion.", "insig_E=1"),
    ("resolved omitted", "Right upper lobe opacity has resolved.", "No right upper lobe opacity.", "sig_F=1"),
    ("resolved paraphrased", "Right upper lobe opacity has resolved.", "Right upper lobe opacity has cleared.", ""),
    ("resolved called persistent", "Right upper lobe opacity has resolved.", "Persistent right upper lobe opacity.",
     "sig_A=1;sig_E=1"),
    ("no new X states no presence", "No new focal opacity.", "Stable appearance of the chest. No focal opacity.",
     "insig_E=1"),
    ("heart size stable is no finding", "The heart size is stable.", "The heart is normal in size.", ""),
    ("device called removed", "Right chest tube in place.", "Right chest tube has been removed.",
     "sig_B=1;sig_E=1"),
    ("'clearing of' is resolved", "Interval clearing of the right lower lobe opacity.",
     "Right lower lobe opacity has resolved.", ""),
    ("resolution omitted and the finding called present", "Interval resolution of the left pneumothorax.",
     "Small left pneumothorax.", "sig_A=1;sig_F=1"),
    ("neither / nor", "Neither effusion nor pneumothorax.", "No effusion. No pneumothorax.", ""),
    ("'clear of' list", "Lungs are clear of consolidation, effusion, and pneumothorax.",
     "No consolidation, effusion, or pneumothorax.", ""),
    ("ETT tip 5 mm apart", "ET tube tip 4.5 cm above the carina.", "ET tube tip 4 cm above the carina.", ""),
    ("PICC spelled out", "Right PICC with tip in the SVC.",
     "Right peripherally inserted central catheter with tip in the SVC.", ""),
    ("AICD is a defibrillator", "Left AICD.", "Left-sided defibrillator.", ""),
    ("change words paraphrased", "Decreased left pleural effusion.", "Improving left pleural effusion.", ""),
    ("grade words paraphrased", "Moderate cardiomegaly.", "Moderately enlarged heart.", ""),
    ("side written after the finding", "Small left pleural effusion.", "Small pleural effusion on the left.", ""),
    ("both sides written out", "Small bilateral pleural effusions.",
     "Small left pleural effusion and small right pleural effusion.", ""),
    # empty report against minor findings only: still one significant B (follow-up to issue 25)
    ("empty candidate, minor-only reference", "Calcified granuloma in the right upper lobe.", "",
     "sig_B=1;insig_B=1"),
    ("punctuation-only candidate, degenerative spine", "Mild degenerative changes of the thoracic spine.", "...",
     "sig_B=1;insig_B=1"),
    ("empty candidate, major finding: its own B only", "Large right pleural effusion.", "", "sig_B=1"),
    # D: a size the reference gives and the candidate omits (amended rule)
    ("size omitted, major", "Right upper lobe mass measuring 3.2 cm.", "Right upper lobe mass.", "sig_D=1"),
    ("size omitted, minor", "A 6 mm calcified granuloma in the left lower lobe.",
     "Calcified granuloma in the left lower lobe.", "insig_D=1"),
    ("size omitted but a grade given", "Right upper lobe nodule measuring 8 mm.", "Small right upper lobe nodule.",
     ""),
    ("size given by the candidate only", "Right upper lobe nodule.", "Right upper lobe nodule measuring 9 mm.", ""),
    # device tip positions and malposition, per device class
    ("ETT 1.5 cm apart, leaving the 3-7 cm range", "Endotracheal tube tip 6 cm above the carina.",
     "Endotracheal tube tip 7.5 cm above the carina.", "sig_C=1"),
    ("ETT 1.5 cm apart inside the 3-7 cm range", "Endotracheal tube tip 3.5 cm above the carina.",
     "Endotracheal tube tip 5 cm above the carina.", ""),
    ("ETT 1 cm above the carina vs a good position", "Endotracheal tube tip 1 cm above the carina.",
     "Endotracheal tube in satisfactory position.", "sig_C=1"),
    ("ETT above the thoracic inlet", "Endotracheal tube tip above the thoracic inlet.",
     "Endotracheal tube tip 5 cm above the carina.", "sig_C=1"),
    ("ETT just above the carina", "Endotracheal tube tip just above the carina.",
     "Endotracheal tube tip in the mid trachea.", "sig_C=1"),
    ("ETT in the esophagus vs the trachea", "Endotracheal tube in the esophagus.",
     "The endotracheal tube is in the trachea.", "sig_C=1"),
    ("a generic tube in the esophagus stands for the ETT", "Endotracheal tube in the esophagus.",
     "The tube is in the esophagus.", ""),
    ("ETT malposition negated", "Endotracheal tube without evidence of malposition, tip 5 cm above the carina.",
     "Endotracheal tube tip 5 cm above the carina.", ""),
    ("enteric side port above the GE junction", "Enteric tube tip in the stomach with the side port above the "
     "gastroesophageal junction.", "Enteric tube tip in the stomach.", "sig_C=1"),
    ("enteric side port below the GE junction", "Nasogastric tube with side port below the GE junction.",
     "Nasogastric tube tip in the stomach.", ""),
    ("enteric tube in a bronchus", "Feeding tube tip in the right lower lobe bronchus.",
     "Feeding tube tip in the stomach.", "sig_C=1"),
    ("enteric tube post-pyloric vs stomach", "Dobhoff tube tip in the duodenum.", "Dobhoff tube tip in the stomach.",
     "sig_C=1"),
    ("PICC up the internal jugular vein", "Right PICC with tip in the right internal jugular vein.",
     "Right PICC with tip in the SVC.", "sig_C=1"),
    ("PICC in the axillary vein vs a good position", "Left PICC tip in the left axillary vein.",
     "Left PICC in good position.", "sig_C=1"),
    ("line in the azygos vein", "Right IJ central line with tip in the azygos vein.",
     "Right IJ central line with tip in the SVC.", "sig_C=1"),
    ("line across to the contralateral brachiocephalic vein",
     "Right IJ catheter tip in the contralateral brachiocephalic vein.",
     "Right IJ catheter tip at the cavoatrial junction.", "sig_C=1"),
    ("IJ named as the line's route is no tip", "Right IJ central venous catheter with tip in the SVC.",
     "Right internal jugular line terminating in the superior vena cava.", ""),
    ("Swan-Ganz main vs interlobar pulmonary artery", "Swan-Ganz catheter tip in the main pulmonary artery.",
     "Swan-Ganz catheter tip in the right interlobar pulmonary artery.", "sig_C=1"),
    ("Swan-Ganz distal vs a good position", "Pulmonary artery catheter tip in the distal left pulmonary artery.",
     "Pulmonary artery catheter in satisfactory position.", "sig_C=1"),
    ("chest tube in the fissure", "Right chest tube in the pleural space.", "Right chest tube in the minor fissure.",
     "sig_C=1"),
    ("chest tube side hole outside the chest", "Left chest tube with its side hole outside the chest wall.",
     "Left chest tube in place.", "sig_C=1"),
    ("subcutaneous emphysema beside a chest tube is no malposition",
     "Left chest tube with adjacent subcutaneous emphysema.", "Subcutaneous emphysema. Left chest tube in place.", ""),
    ("pacemaker lead fracture on one side only", "Left chest wall pacemaker; the right ventricular lead appears "
     "fractured.", "Left chest wall pacemaker with leads in the right atrium and right ventricle.", "sig_C=1"),
    ("no lead fracture is no malposition", "Left pacemaker without lead fracture.", "Left pacemaker.", ""),
    ("a rib fracture beside a pacemaker is a fracture", "Left pacemaker and acute left rib fractures.",
     "Left pacemaker.", "sig_B=1"),
    ("lead in the coronary sinus vs the right ventricle", "Biventricular pacemaker with a lead in the coronary sinus.",
     "Biventricular pacemaker with a lead in the right ventricle.", "sig_C=1"),
    ("tracheostomy tube in a mainstem bronchus", "Tracheostomy tube in place.",
     "Tracheostomy tube tip in the right mainstem bronchus.", "sig_C=1"),
    ("IABP above the aortic knob", "Intra-aortic balloon pump tip 2 cm below the aortic knob.",
     "Intra-aortic balloon pump tip above the aortic knob.", "sig_C=1"),
    ("IABP below the knob written differently", "Intra-aortic balloon pump tip just below the aortic knob.",
     "IABP tip projects over the proximal descending thoracic aorta.", ""),
    ("IABP in the abdominal aorta vs a good position", "Intra-aortic balloon pump tip in the abdominal aorta.",
     "Intra-aortic balloon pump in good position.", "sig_C=1"),
    # a finding is major if any statement of it is; one-sided statements merged (from dev hack probes)
    ("a minimal statement does not make a sized opacity minor",
     "There is a 1 cm focal opacity in the right lung apex. There is minimal left basilar opacity.",
     "No acute abnormality.", "sig_B=1"),
    ("an old fracture does not make an acute one chronic",
     "Old healed right rib fractures. Acute displaced left rib fracture.", "No acute abnormality.", "sig_B=1"),
    ("sides of two one-sided statements dropped", "Moderate right pleural effusion. Small left pleural effusion.",
     "Moderate pleural effusion. Small pleural effusion.", "sig_C=1"),
    ("a bilateral side dropped is no error by the spec", "Bilateral pleural effusions.", "Pleural effusions.", ""),
    # elevated hemidiaphragm: a finding with a side
    ("elevated hemidiaphragm, side dropped", "Elevated right hemidiaphragm.", "Elevated hemidiaphragm.", "sig_C=1"),
    ("elevated hemidiaphragm, other side", "The left hemidiaphragm remains mildly elevated.",
     "Mild elevation of the right hemidiaphragm.", "sig_C=1"),
    ("elevated hemidiaphragm omitted", "Mild elevation right hemidiaphragm. Lungs are clear.", "Lungs are clear.",
     "sig_B=1"),
    # "right greater than left" compares sides, not studies
    ("a side comparison is no change", "Small bilateral pleural effusions, left greater than right.",
     "Small bilateral pleural effusions.", ""),
    ("a comparison with the prior is a change", "Right pleural effusion, larger than on the prior study.",
     "Right pleural effusion.", "sig_F=1"),
    # a size written after the finding's location; "significantly enlarged" is a grade (from dev hack probes)
    ("a nodule's size after its lobe, omitted",
     "There is an ill-defined nodule in the left lower lobe measuring approximately 9 mm.",
     "There is an ill-defined nodule in the left lower lobe.", "sig_D=1"),
    ("significantly enlarged heart, grade omitted", "The heart is significantly enlarged.",
     "The heart is enlarged.", "sig_D=1"),
    ("no significant cardiomegaly is no finding", "No significant cardiomegaly.", "Heart size is normal.", ""),
    # a hedge after a few words hedges the finding before it, not only the nearest one
    ("'X to suggest Y cannot be excluded' hedges X", "No focal airspace opacity to suggest pneumonia.",
     "Focal airspace opacity to suggest pneumonia cannot be excluded.", "sig_A=2"),
    # a hedge of what the reference rules out is significant; of what it does not mention, not
    ("ruled out, then hedged", "No pneumothorax.", "Pneumothorax cannot be excluded.", "sig_A=1"),
    ("not mentioned, hedged", "The lungs are clear.", "Pneumothorax cannot be excluded.", "insig_A=1"),
    ("ruled out, hedged as minimal", "No pleural effusion.", "Possible trace pleural effusion.", "insig_A=1"),
    # a possibility the reference raises, omitted: significant unless minimal, chronic or minor
    ("hedged major finding omitted", "Possible small left pleural effusion.", "The lungs are clear.", "sig_B=1"),
    ("hedged minimal finding omitted", "Possible trace left pleural effusion.", "The lungs are clear.", "insig_B=1"),
    ("hedged chronic finding omitted", "Rib deformities, possibly old fractures.", "The lungs are clear.",
     "insig_B=1"),
    # a small effusion or pneumothorax left ungraded (its grade decides drainage); a mild cardiomegaly not
    ("small effusion left ungraded", "Small right pleural effusion.", "Right pleural effusion.", "sig_D=1"),
    ("mild grade of another finding left out", "Mild cardiomegaly.", "Cardiomegaly.", ""),
    ("a definite opacity only hedged by a trailing 'cannot be excluded'", "Right lower lobe airspace opacity.",
     "Right lower lobe airspace opacity to suggest pneumonia cannot be excluded.", "sig_D=1;insig_A=1"),
    # a cardiac device behind "XXXX", leads in the right heart; ECG leads stay no device; devices are never "old"
    ("pacemaker hidden by XXXX, omitted", "There is a cardiac XXXX with leads in the right atrium and right "
     "ventricle. Lungs are clear.", "Lungs are clear.", "sig_B=1"),
    ("leads ending in the right ventricle, omitted", "Leads overlie the right ventricle. No effusion.",
     "No effusion.", "sig_B=1"),
    ("external monitor leads are no device", "Overlying external cardiac monitor leads. Lungs are clear.",
     "Lungs are clear.", ""),
    ("an ICD beside post-surgical changes, omitted", "Stable left-sided ICD and postsurgical changes of CABG. "
     "Lungs are clear.", "Lungs are clear.", "sig_B=1;insig_B=1"),
    # a change the reference gives one statement, the candidate only the other statement's "stable"
    ("a decrease called stable beside another stable statement",
     "Stable coarse interstitial markings. Decreased left basilar airspace disease.",
     "Stable coarse interstitial markings. Stable left basilar airspace disease.", "sig_F=1"),
    # a vertebral compression deformity is a fracture (its name often hidden by "XXXX"); other deformities are not
    ("vertebral compression deformity omitted", "Mild XXXX deformity of the T11 vertebral body. Lungs are clear.",
     "Lungs are clear.", "sig_B=1"),
    ("old vertebral wedge deformity omitted", "Old anterior wedge deformity of L1. Lungs are clear.",
     "Lungs are clear.", "insig_B=1"),
    ("a pectus deformity is no fracture", "Pectus excavatum deformity. Lungs are clear.", "Lungs are clear.", ""),
    # a side written after the finding's location; "not seen on prior exams" dates a finding, it does not negate it
    ("side at the end of a location phrase, dropped",
     "A 15 mm nodule has appeared in the lateral segment of the right middle lobe.",
     "A 15 mm nodule has appeared in the lateral segment of the middle lobe.", ""),
    ("side after the segment, dropped", "A 2 cm mass is seen in the superior segment of the left upper lobe.",
     "A 2 cm mass is seen in the superior segment of the upper lobe.", "sig_C=1"),
    ("a nodule 'not seen on prior exams' is present", "There is an 8 mm left upper lobe nodule, not seen on "
     "prior exams.", "No nodules.", "sig_B=1"),
    # "age-indeterminate" dates a finding, it does not hedge it; a chronic word after "and" is another thing's
    ("an age-indeterminate compression fracture omitted", "Age-indeterminate compression fracture of T12. "
     "Lungs are clear.", "Lungs are clear.", "sig_B=1"),
    ("a chronicity word of the next thing named", "Cardiomegaly and old healed rib fractures.",
     "No acute abnormality.", "sig_B=1;insig_B=1"),
    # an interpretation the other report rules out is a false finding / omission, not a reading of the opacity
    ("pneumonia the reference rules out", "Coarse interstitial markings. No consolidation to suggest pneumonia.",
     "Coarse interstitial markings. Pneumonia.", "sig_A=1"),
    ("pneumonia the candidate rules out", "Right lower lobe pneumonia.",
     "Right lower lobe opacity. No pneumonia.", "sig_B=1"),
    ("a growing nodule beside new ones, its growth omitted", "New nodules in both upper lobes. The left lower "
     "lobe nodule has increased in size.", "New nodules in both upper lobes. Left lower lobe nodule.", "sig_F=1"),
    ("a hedge that opens the sentence before a comma", "Since the prior study, a right upper lobe consolidation "
     "has developed.", "Possibly, since the prior study, a right upper lobe consolidation has developed.", "sig_D=1"),
    ("a venous catheter behind XXXX, omitted", "Left chest wall XXXX with its tip at the cavoatrial junction. "
     "No pneumothorax.", "No pneumothorax.", "sig_B=1"),
    ("a venous catheter behind XXXX is the PICC", "Right chest XXXX with the tip in the SVC.",
     "Right PICC with its tip in the superior vena cava.", ""),
    # rules 2.2: a heart chamber named without its side is another lead position; breast mass and a widened
    # paratracheal stripe are findings of their own, with their side
    ("pacer leads lose the chamber's side", "Pacemaker with leads terminating in the right atrium and right "
     "ventricle.", "Pacemaker with leads terminating in the atrium and ventricle.", "sig_C=1"),
    ("pacer leads, one chamber side said once", "Pacemaker with leads in the right atrium and right ventricle.",
     "Pacemaker with leads in the right atrium and ventricle.", ""),
    ("a central line in the atrium, side unsaid", "Right PICC with its tip in the SVC.",
     "Right PICC with its tip in the atrium.", "sig_C=1"),
    ("a breast mass omitted", "Large right breast mass. Lungs are clear.", "Lungs are clear.", "sig_B=1"),
    ("a breast mass on the other side", "Large right breast mass.", "Large left breast mass.", "sig_C=1"),
    ("a widened paratracheal stripe omitted", "Widened right paratracheal stripe. Lungs are clear.",
     "Lungs are clear.", "sig_B=1"),
    ("a normal paratracheal stripe is no finding", "The right paratracheal stripe is normal. Lungs are clear.",
     "Lungs are clear.", ""),
    # rules 2.3: a sited statement is a finding of its own (a second opacity at another site left out or
    # denied); vascular congestion stated plainly is a finding the writer states
    ("a second opacity at another site omitted", "Streaky bibasilar opacities. Focal opacity in the right "
     "midlung.", "Streaky bibasilar opacities.", "sig_B=1"),
    ("a second opacity denied at its site", "Patchy opacity in the right upper lobe. Patchy opacity at the right "
     "base.", "Patchy opacity in the right upper lobe. No opacity at the right base.", "sig_B=1"),
    ("two sites said in one phrase", "Opacities in the right upper lobe and right lower lobe.",
     "Right upper and lower lobe opacities.", ""),
    ("one opacity put in another lobe stays a zone error", "Right upper lobe opacity.", "Right lower lobe opacity.",
     "insig_C=1"),
    ("a minimal second site is no significant omission", "Minimal atelectasis at the left base. Right upper lobe "
     "opacity.", "Right upper lobe opacity.", "insig_B=1"),
    ("vascular congestion stated, false", "Lungs are clear.", "There is pulmonary vascular congestion.", "sig_A=1"),
    ("vascular congestion hedged, false", "Lungs are clear.", "Possible pulmonary vascular congestion.", "insig_A=1"),
    ("prominent vessels stay an equivocal sign", "Lungs are clear.", "Prominent pulmonary vasculature.",
     "insig_A=1"),
    # rules 2.4: sides the counter did not read (subcutaneous emphysema, a rib or clavicle deformity, a density
    # the labeler does not read, a side in a place named far after its finding) and two paraphrases
    ("subcutaneous emphysema loses its side", "Right chest wall subcutaneous emphysema.",
     "Chest wall subcutaneous emphysema.", "sig_C=1"),
    ("subcutaneous emphysema omitted", "There is subcutaneous emphysema in the left chest wall. No pneumothorax.",
     "No pneumothorax.", "sig_B=1"),
    ("subcutaneous emphysema is not the lung's emphysema", "Subcutaneous emphysema in the right neck.",
     "Emphysema.", "sig_A=1;sig_B=1"),
    ("a rib deformity loses its side", "Right 7th and 8th rib deformities.", "7th and 8th rib deformities.",
     "sig_C=1"),
    ("a rib deformity on the other side", "Deformity of the left lateral 6th rib.",
     "Deformity of the right lateral 6th rib.", "sig_C=1"),
    ("an old rib deformity's side is not read", "Old right rib deformities.", "Old rib deformities.", ""),
    ("a remote clavicle deformity's side is not read", "Deformity of the right clavicle related to remote trauma.",
     "Deformity of the clavicle related to remote trauma.", ""),
    ("a minimally displaced fracture is no minimal finding", "Minimally displaced fracture of the right 7th rib.",
     "No acute abnormality.", "sig_B=1"),
    ("an increasing density loses its side", "Increasing density in the superior segment of the left lower lobe.",
     "Increasing density in the superior segment of the lower lobe.", "sig_C=1"),
    ("a round density omitted", "There is round density within the anterior segment of the right upper lobe.",
     "Lungs are clear.", "sig_B=1"),
    ("a density explained by overlying bone is no finding", "Vague density in the right lung apex representing "
     "overlying bony structures.", "Lungs are clear.", ""),
    ("a side far after the finding, dropped", "There is a 4 cm opacity with one lobulated margin and the other "
     "ill-defined in the lateral lower left lung.", "There is a 4 cm opacity with one lobulated margin and the "
     "other ill-defined in the lateral lower lung.", "sig_C=1"),
    ("one of two opacities named as consolidation", "Left lower lobe opacity. Right upper lobe opacity.",
     "Left lower lobe consolidation. Right upper lobe opacity.", ""),
    ("one of two opacities named as consolidation, the other way", "Left lower lobe consolidation. Right upper "
     "lobe opacity.", "Left lower lobe opacity. Right upper lobe opacity.", ""),
    ("a false consolidation on the other side is no naming of the opacity", "Right upper lobe opacity.",
     "Right upper lobe opacity. Left lower lobe consolidation.", "sig_C=1"),
    ("pneumonia named by its consolidation", "Right lower lobe consolidation consistent with pneumonia.",
     "Right lower lobe pneumonia.", ""),
    ("pneumonia named by its consolidation, the other way", "Right lower lobe pneumonia.",
     "Right lower lobe consolidation consistent with pneumonia.", ""),
    ("a definite consolidation is not named by a possible pneumonia", "Right lower lobe consolidation "
     "consistent with pneumonia.", "Possible right lower lobe pneumonia.", "sig_B=1;sig_D=1"),
    ("a lobe's side lost beside another lobe's", "Consolidations have developed in the left upper lobe and both "
     "lower lobes.", "Consolidations have developed in the upper lobe and both lower lobes.", "sig_C=1"),
    ("one side said for two lobes", "Opacities in the right upper lobe and right lower lobe.",
     "Right upper and lower lobe opacities.", ""),
    # rules 2.5: a venous line behind "XXXX", a device's presence hedged after its words, which side has the
    # larger effusion, pneumothorax or nodule, and "both" of two findings just named
    ("a venous line behind XXXX, omitted", "Right subclavian XXXX line with its tip in the mid SVC. Lungs are "
     "clear.", "Lungs are clear.", "sig_B=1"),
    ("a venous line behind XXXX, other side", "Left jugular XXXX line terminates at the cavoatrial junction. No "
     "effusion.", "Right jugular XXXX line terminates at the cavoatrial junction. No effusion.", "sig_C=1"),
    ("a XXXX line ending in a central vein, omitted", "A XXXX line ends in the superior vena cava. No "
     "pneumothorax.", "No pneumothorax.", "sig_B=1"),
    ("a XXXX line ending in a central vein is the central line named", "XXXX line with its tip in the right "
     "atrium.", "Central venous catheter with its tip in the right atrium.", ""),
    ("Kerley B lines behind XXXX are no device", "XXXX B lines at the bases. No effusion.", "No effusion.", ""),
    ("a pleural line and septal lines are no device", "Pleural line at the left apex without pneumothorax. Few "
     "septal XXXX lines.", "No pneumothorax.", ""),
    ("a device hedged after its words", "Right PICC with its tip in the lower SVC.",
     "Right PICC with its tip in the lower SVC cannot be ruled out.", "sig_D=1"),
    ("a device hedged after its words in the reference", "Left pigtail catheter at the base is not excluded.",
     "Left pigtail catheter at the base.", "insig_D=1"),
    ("a hedged tip position leaves the device definite", "Catheter tip in the azygos vein.",
     "Catheter tip in the azygos vein cannot be excluded.", ""),
    ("the tip of a device hedged, not the device", "The tip of the right PICC is at the cavoatrial junction.",
     "The tip of the right PICC at the cavoatrial junction cannot be excluded.", ""),
    ("a hedge after a finding beside a device is the finding's", "Left chest tube. Small left pneumothorax.",
     "Left chest tube with a small left pneumothorax that cannot be excluded.", "sig_D=1"),
    ("the larger effusion on the other side", "Large right pleural effusion and small left pleural effusion.",
     "Small right pleural effusion and large left pleural effusion.", "sig_C=1"),
    ("the larger effusion on the other side, one phrase", "Moderate left and small right pleural effusions.",
     "Moderate right and small left pleural effusions.", "sig_C=1"),
    ("the larger effusion on the other side, grades after", "Bilateral pleural effusions, moderate on the left and "
     "small on the right.", "Bilateral pleural effusions, small on the left and moderate on the right.", "sig_C=1"),
    ("the larger pneumothorax on the other side", "Moderate right pneumothorax. Tiny left apical pneumothorax.",
     "Moderate left pneumothorax. Tiny right apical pneumothorax.", "sig_C=1"),
    ("the larger nodule on the other side", "There is a 2 cm nodule in the right upper lobe and a 6 mm nodule in "
     "the left lower lobe.", "There is a 6 mm nodule in the right upper lobe and a 2 cm nodule in the left lower "
     "lobe.", "sig_C=1"),
    ("one grade on both sides, said two ways", "Small bilateral pleural effusions.",
     "Small right and small left pleural effusions.", ""),
    ("one grade on both sides, said two ways, the other way", "Small left and small right pleural effusions.",
     "Small bilateral pleural effusions.", ""),
    ("a minor finding's larger side is not asked", "8 mm calcified granuloma in the right upper lobe and a 3 mm "
     "calcified granuloma in the left upper lobe.", "3 mm calcified granuloma in the right upper lobe and an 8 mm "
     "calcified granuloma in the left upper lobe.", ""),
    ("two sizes too close to say which nodule is larger", "5 mm nodule in the right lower lobe and a 4.5 mm "
     "nodule in the left lower lobe.", "4.5 mm nodule in the right lower lobe and a 5 mm nodule in the left lower "
     "lobe.", ""),
    ("'both' of two findings is no side", "Large left pleural effusion and small right pleural effusion, both "
     "unchanged.", "Large pleural effusion and small pleural effusion, both unchanged.", "sig_C=1"),
    ("'both lungs' is still both sides", "Patchy opacities in both lungs.", "Patchy opacities in the right lung.",
     "sig_C=1"),
    # several errors at once
    ("grade and change both wrong", "Large right pleural effusion, increased.",
     "Small right pleural effusion, decreased.", "sig_D=1;sig_E=1"),
    ("four findings, five errors", "Left upper lobe mass. Moderate left pleural effusion. Mild cardiomegaly.",
     "Right upper lobe mass. Small left pleural effusion. Moderate cardiomegaly. New right pneumothorax.",
     "sig_A=1;sig_C=1;sig_E=1;insig_D=2"),
]


@pytest.mark.parametrize("rule,reference,candidate,expected", PAIRS, ids=[p[0] for p in PAIRS])
def test_rule(counter, rule, reference, candidate, expected):
    got = counter.count(reference, candidate)
    assert got == _expected(expected), [(e.type, e.significant, e.reason) for e in counter.errors(reference, candidate)]


REFERENCE = ("Right internal jugular central venous catheter with tip in the SVC. Endotracheal tube 4 cm above the "
             "carina. Moderate left pleural effusion, increased. Small right pneumothorax. Mild cardiomegaly.")
HACKS = {
    "hedging every finding": ("Right internal jugular central venous catheter with tip in the SVC. Endotracheal "
                              "tube 4 cm above the carina. Possible moderate left pleural effusion, increased. "
                              "Possible small right pneumothorax. Possible mild cardiomegaly."),
    "dropping sides": ("Internal jugular central venous catheter with tip in the SVC. Endotracheal tube 4 cm above "
                       "the carina. Moderate pleural effusion, increased. Small pneumothorax. Mild cardiomegaly."),
    "dropping severities": ("Right internal jugular central venous catheter with tip in the SVC. Endotracheal tube "
                            "4 cm above the carina. Left pleural effusion, increased. Right pneumothorax. "
                            "Cardiomegaly."),
    "dropping devices": "Moderate left pleural effusion, increased. Small right pneumothorax. Mild cardiomegaly.",
    "calling everything stable": ("Right internal jugular central venous catheter with tip in the SVC, unchanged. "
                                  "Endotracheal tube 4 cm above the carina, unchanged. Stable moderate left pleural "
                                  "effusion. Stable small right pneumothorax. Stable mild cardiomegaly."),
    "a malpositioned line": ("Right internal jugular central venous catheter, malpositioned, with its tip in the "
                             "right atrium. Endotracheal tube 4 cm above the carina. Moderate left pleural effusion, "
                             "increased. Small right pneumothorax. Mild cardiomegaly."),
}


def test_the_reference_against_itself_has_no_error(counter):
    assert counter.count(REFERENCE, REFERENCE) == [0] * 12


@pytest.mark.parametrize("hack", list(HACKS))
def test_reward_hacks_are_significant_errors(counter, hack):
    counts = counter.count(REFERENCE, HACKS[hack])
    assert sum(counts[:6]) >= 1, (hack, counter.errors(REFERENCE, HACKS[hack]))


def test_hedging_and_dropping_cost_one_significant_error_per_finding(counter):
    # hedging: three definite major findings hedged (D each); sides: the effusion's, the pneumothorax's and the
    # line's side omitted (C each); severities: moderate effusion and small pneumothorax left ungraded (D each:
    # an effusion's or pneumothorax's grade decides drainage); mild cardiomegaly (grade 2) omits no grade >= 3
    assert counter.count(REFERENCE, HACKS["hedging every finding"])[:6] == [0, 0, 0, 3, 0, 0]
    assert counter.count(REFERENCE, HACKS["dropping sides"])[:6] == [0, 0, 3, 0, 0, 0]
    assert counter.count(REFERENCE, HACKS["dropping severities"])[:6] == [0, 0, 0, 2, 0, 0]
    assert counter.count(REFERENCE, HACKS["dropping devices"])[:6] == [0, 2, 0, 0, 0, 0]
    # "stable" claimed: the effusion the reference calls increased (E), and four present major findings the
    # reference gives no temporal status (line, tube, pneumothorax, cardiomegaly: E each)
    assert counter.count(REFERENCE, HACKS["calling everything stable"])[:6] == [0, 0, 0, 0, 5, 0]
    assert counter.count(REFERENCE, HACKS["a malpositioned line"])[:6] == [0, 0, 1, 0, 0, 0]


def test_errors_carry_their_reason(counter):
    items = counter.errors("Moderate left pneumothorax.", "Moderate right pneumothorax.")
    assert [(e.type, e.significant, e.key) for e in items] == [("C", True, "Pneumothorax")]
    assert "right" in items[0].reason and "left" in items[0].reason


def _iu_development_reports(limit: int) -> list[str]:
    """IU reports that are not ReXrank IU test studies (the test references are held out)."""
    test_ids = {k.split("_")[0] for k in json.loads(shared_path("rexrank", "iu_xray_test.json").read_text())}
    out = []
    with tarfile.open(shared_path("iu_reports", "NLMCXR_reports.tgz")) as tar:
        for member in tar:
            if not member.name.endswith(".xml"):
                continue
            if "CXR" + member.name.rsplit("/", 1)[-1][:-4] in test_ids:
                continue
            parts = {a.get("Label"): (a.text or "") for a in ET.parse(tar.extractfile(member)).getroot().iter(
                "AbstractText")}
            text = " ".join(p for p in (parts.get("FINDINGS", ""), parts.get("IMPRESSION", "")) if p).strip()
            if text:
                out.append(text)
            if len(out) >= limit:
                break
    return out


def test_identical_reports_have_no_errors(counter):
    for text in _iu_development_reports(400):
        assert counter.count(text, text) == [0] * 12, text


def test_device_hints_never_hide_a_device():
    """The cheap word screen before the device scan is a necessary condition only: every development IU
    sentence in which the device scanner finds a device passes the screen."""
    from rexeval.backends.labelers.rules import lower_same_length
    from rexeval.metrics.errors_struct import lexicon
    from rexeval.metrics.errors_struct.v1 import split_sentences

    sentences = {lower_same_length(s) for text in _iu_development_reports(4000) for s in split_sentences(text)}
    with_device = [s for s in sentences if lexicon.DEVICES.search(s)]
    assert len(with_device) > 100
    missed = [s for s in with_device if not lexicon.DEVICE_SCREEN.search(" " + s)]
    assert not missed, missed[:5]


def test_word_screens_find_exactly_their_words():
    """The screens are searches for any of their hint strings (written as one trie-shaped regex): on each
    hint, the hint cut short, the hint inside other text, and development sentences, a screen finds
    something exactly when one of its strings is a substring."""
    from rexeval.backends.labelers.rules import lower_same_length
    from rexeval.metrics.errors_struct import lexicon
    from rexeval.metrics.errors_struct.v1 import split_sentences

    texts = {lower_same_length(s) for text in _iu_development_reports(1500) for s in split_sentences(text)}
    for screen, hints in ((lexicon.DEVICE_SCREEN, lexicon.DEVICE_HINTS), (lexicon.OTHER_SCREEN, lexicon.OTHER_HINTS),
                          (lexicon.SIDED_SCREEN, lexicon.SIDED_HINTS),
                          (lexicon.EXTRA_SUBJECT_SCREEN, lexicon.EXTRA_SUBJECTS),
                          (lexicon.EXTRA_CHANGE_SCREEN, lexicon.EXTRA_CHANGES)):
        probes = set(texts)
        for h in hints:
            probes |= {h, h[:-1], h[1:], f"zz{h}zz", f"a {h[:-1]}q {h[1:]}"}
        wrong = [p for p in probes if (screen.search(p) is not None) != any(h in p for h in hints)]
        assert not wrong, wrong[:5]


def test_extra_findings_screens_hide_nothing():
    """The findings added in rules 2.1 are scanned only past a two-part screen: on development sentences and on
    phrasings of each, every sentence the scanner reads something in passes both screens."""
    from rexeval.backends.labelers.rules import lower_same_length
    from rexeval.metrics.errors_struct import lexicon
    from rexeval.metrics.errors_struct.v1 import split_sentences

    texts = {lower_same_length(s) for text in _iu_development_reports(1500) for s in split_sentences(text)}
    texts |= {"prominent pulmonary arteries", "pulmonary arterial hypertension", "the hila are enlarged",
              "fullness of the left hilum", "osteolytic lesion", "bone metastases", "osseous metastatic disease",
              "bronchitis", "peribronchial cuffing", "venous congestion", "cephalization of the vessels",
              "vascularity is mildly increased"}
    found = [t for t in texts if lexicon.EXTRA_FINDINGS.search(t)]
    assert len(found) > 10
    hidden = [t for t in found if not (lexicon.EXTRA_SUBJECT_SCREEN.search(t) and lexicon.EXTRA_CHANGE_SCREEN.search(t))]
    assert not hidden, hidden[:5]


def test_sided_findings_screen_hides_nothing():
    """The findings added in rules 2.4 are scanned only past their word screen: on development sentences and on
    phrasings of each, every sentence the scanner reads something in passes the screen."""
    from rexeval.backends.labelers.rules import lower_same_length
    from rexeval.metrics.errors_struct import lexicon
    from rexeval.metrics.errors_struct.v1 import split_sentences

    texts = {lower_same_length(s) for text in _iu_development_reports(1500) for s in split_sentences(text)}
    texts |= {"subcutaneous air in the left neck", "soft tissue emphysema", "soft-tissue gas", "chest wall air",
              "right clavicle deformity", "deformity of the left 5th rib", "rib contour deformities"}
    found = [t for t in texts if lexicon.SIDED_FINDINGS.search(t)]
    assert len(found) >= 7
    hidden = [t for t in found if not lexicon.SIDED_SCREEN.search(t)]
    assert not hidden, hidden[:5]


def test_version_option_and_signature():
    assert COUNTER_VERSION == "2"
    assert "|counter:v2|rules:2.5|" in ErrorsStruct().signature()
    assert "rules:" not in ErrorsStruct(counter="v1").signature()  # v1 is kept as it was
    assert "|counter:v1|" in ErrorsStruct(counter="v1").signature()
    assert type(ErrorsStruct(counter="v1").counter()).__module__ == "rexeval.metrics.errors_struct.v1"
    with pytest.raises(ConfigError, match="counter must be one of v1, v2"):
        ErrorsStruct(counter="v3")


def test_v1_is_reachable_from_the_cli_option_path():
    from rexeval.cli.score import parse_metric_options
    from rexeval.metrics import get_metric

    options = parse_metric_options(["errors_struct.counter=v1"])
    metric = get_metric("errors_struct", **options["errors_struct"])
    assert metric.options()["counter"] == "v1"
    # a pair where the two counters differ: v1 counts every support device as minor, v2 a pacemaker as major
    ref, cand = "Left chest wall pacemaker.", "No acute disease."
    assert metric.counter().count(ref, cand) == _expected("insig_B=1")
    assert make_counter("v2").count(ref, cand) == _expected("sig_B=1")
