"""The ``%lambda_form`` magic: show the interactive invoke form in a notebook.

ipywidgets is imported only when the magic runs, and only where a widget frontend can show
the form: a Jupyter kernel (``ZMQInteractiveShell``, which has a ``kernel``). A terminal
IPython gets a one-line ``UsageError`` instead.
"""

from __future__ import annotations

from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand

from lambda_magic._magic_line import parse_line, usage_errors

__all__ = ["FormMagics", "has_widget_frontend"]


def has_widget_frontend(shell: Any) -> bool:
    """True in a Jupyter kernel (a frontend that can render widgets may be attached).

    A terminal ``TerminalInteractiveShell`` or a plain ``InteractiveShell`` has no
    ``kernel`` and nothing to send widget messages to.
    """
    return getattr(shell, "kernel", None) is not None


@magics_class
class FormMagics(Magics):
    """The interactive invoke form."""

    @no_var_expand
    @magic_arguments.magic_arguments()
    @magic_arguments.argument("function", nargs="?", help="Function to pre-select (name, name:alias or ARN).")
    @magic_arguments.argument("--region", help="AWS region for the form's calls.")
    @magic_arguments.argument("--profile", help="AWS profile for the form's calls.")
    @magic_arguments.argument("--endpoint-url", dest="endpoint_url", help="Lambda endpoint URL.")
    @magic_arguments.argument("-o", "--output", dest="output", help="Also store the form in this variable.")
    @line_magic
    def lambda_form(self, line: str) -> Any:
        """Show a form to invoke a Lambda function: pick it, edit the event, click Invoke.

        The function list comes from ListFunctions (Refresh lists again); the payload is
        JSON checked as you type, with ``$name`` and ``${expr}`` as in ``%%lambda_invoke``
        (evaluated only when you click Invoke) and sample events to start from. Advanced
        holds the invocation type, qualifier, client context, log tail, region and profile.
        The form is returned: ``form.result`` is the last response, ``form.history`` all of
        them, ``form.on_result(callback)`` runs code after each; "Copy as magic" copies the
        equivalent ``%%lambda_invoke`` cell. Saved events (private files or the console's
        shareable ones) are saved, loaded and deleted under the payload; Cancel or the
        kernel's Interrupt stops a running call. Examples::

            %lambda_form
            %lambda_form my-function --region eu-west-1 -o f
        """
        args = parse_line(self.lambda_form, line)
        shell: Any = self.shell
        if not has_widget_frontend(shell):
            raise UsageError(
                "%lambda_form needs a notebook with widgets (JupyterLab, Notebook, VS Code); "
                "in a terminal use %%lambda_invoke"
            )
        from lambda_magic._form import LambdaForm

        with usage_errors():
            _check_line(args, shell)
            form = LambdaForm(
                args.function,
                region=args.region,
                profile=args.profile,
                endpoint_url=args.endpoint_url,
                namespace=shell.user_ns,
            )
        if args.output:
            shell.user_ns[args.output] = form
        return form


def _check_line(args: Any, shell: Any) -> None:
    """Refuse a bad line before the form is built: building it lists the functions (a request)."""
    from lambda_magic._client import check_identity
    from lambda_magic._invoke_magics import check_output_name
    from lambda_magic._request import check_function_name
    from lambda_magic._settings import resolve_settings
    from lambda_magic._stacks import parse_stack_reference

    check_output_name(args.output, shell)
    if args.function and parse_stack_reference(args.function) is None:
        check_function_name(args.function)
    settings = resolve_settings(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)
    if args.profile:
        check_identity(settings)
