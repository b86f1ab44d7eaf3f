"""Campaigns of parameterised notebooks (``senacs run``), their scheduling and the preparer's JupyterLab.

The public API: :func:`run_campaign`, :class:`CampaignReport`, :func:`load_campaign`,
:class:`CampaignError`, :class:`CampaignLocked`; the CLI helpers live in :mod:`.commands`.
"""

from senacs_workbench.restricted.campaign.runner import (
    CampaignLocked,
    CampaignReport,
    RunOutcome,
    campaign_lock,
    run_campaign,
)
from senacs_workbench.restricted.campaign.spec import CampaignError, load_campaign

__all__ = [
    "CampaignError",
    "CampaignLocked",
    "CampaignReport",
    "RunOutcome",
    "campaign_lock",
    "load_campaign",
    "run_campaign",
]
