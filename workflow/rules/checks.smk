# Checks of the rule definitions themselves, after every rule file is included.


def _check_report_safe_params():
    """Every rule param that could carry a user's text is wrapped by report_safe (see
    tearflow.report_safe): Snakemake writes params into the HTML report unescaped."""
    for step in workflow.rules:
        unsafe = unsafe_params(step.params.items())
        if unsafe:
            sys.exit(
                f"tearflow (developer): param(s) {', '.join(unsafe)} of {step.name} not wrapped by "
                "report_safe(...); Snakemake writes params into the report unescaped"
            )


_check_report_safe_params()
