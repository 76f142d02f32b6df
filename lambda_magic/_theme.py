"""Colours for every display, taken from the notebook's theme.

One ``<style>`` block defines ``--lm-ok``, ``--lm-bad``, ``--lm-note``, ``--lm-edge``,
``--lm-code-bg`` and ``--lm-link`` from JupyterLab's CSS variables, with fallbacks for
classic Notebook and VS Code; each display uses only these. JupyterLab's own success and
error colours are under 4.5:1 on their backgrounds (``--jp-success-color1`` is 2.9:1 on
white), so the status colours are our own, one pair per theme kind: JupyterLab marks dark themes with
``data-jp-theme-light="false"`` on ``body``, VS Code with a ``vscode-dark`` class.
"""

from __future__ import annotations

__all__ = ["THEME_CSS"]

#: Every colour the displays use, light values first, dark ones where the theme is dark.
THEME_CSS = (
    "<style>"
    ":root{--lm-ok:#137333;--lm-bad:#b3261e;"
    "--lm-note:var(--jp-content-font-color2,var(--vscode-descriptionForeground,#5f6368));"
    "--lm-edge:var(--jp-border-color1,var(--vscode-input-border,#8a8a8a));"
    "--lm-code-bg:var(--jp-layout-color2,var(--vscode-textCodeBlock-background,#f5f5f5));"
    "--lm-link:var(--jp-content-link-color,var(--vscode-textLink-foreground,#0b57d0))}"
    'body[data-jp-theme-light="false"],body.vscode-dark,body.vscode-high-contrast'
    "{--lm-ok:#81c995;--lm-bad:#f2b8b5}"
    "</style>"
)
