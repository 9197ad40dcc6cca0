"""Molecule drawings (RDKit) from SMILES strings, as PNG bytes."""
from __future__ import annotations

from rdkit import Chem, RDLogger
from rdkit.Chem.Draw import rdMolDraw2D

from dashboard.errors import GapscopeError

RDLogger.DisableLog("rdApp.*")


def molecule_png(smiles: str, width: int = 260, height: int = 200) -> bytes:
    """A PNG drawing of the molecule; an unparsable SMILES is a one-line error."""
    molecule = Chem.MolFromSmiles(smiles or "")
    if molecule is None or molecule.GetNumAtoms() == 0:
        raise GapscopeError(f"molecule {smiles[:60]!r}: not a valid SMILES string")
    drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
    drawer.DrawMolecule(molecule)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
