"""Run every code cell of a notebook top to bottom, as Jupyter would, without Jupyter:
python3 tests/run_notebook.py samples/notebook.ipynb OUT_DIR (the tables of
`coroner analyze samples/t3-drop -o OUT_DIR`). Figures are drawn off screen."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")


def main(notebook: str, out: str) -> int:
    os.environ["CORONER_OUT"] = out
    cells = json.load(open(notebook))["cells"]
    scope: dict = {"__name__": "__main__"}
    ran = 0
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            exec(compile(source, f"{notebook}#cell{i}", "exec"), scope)
        except Exception:
            print(f"cell {i} failed:\n{source}", file=sys.stderr)
            raise
        ran += 1
    print(f"{notebook}: {ran} code cells ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
