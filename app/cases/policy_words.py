"""Words staff and families need, quoted from the provider's Prevent policy (section 5, "Definitions", and section 8:
"referral to the channel process is not a criminal intervention"): shown as help on the concern form, and on the
referral form (page and PDF), the reporter's view of their concern and the consent step. Written here once; the
templates have them as Jinja globals (app/views.py)."""
from __future__ import annotations

NOT_CRIMINAL = "A referral to Channel is not a criminal process."

# (word, the policy's definition), in the policy's order.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Radicalisation", "A process by which an individual or group comes to adopt increasingly extreme political, "
                       "social, or religious ideals and aspirations that reject or undermine the status quo."),
    ("Terrorism", "An act of terror/ violence based on a political objective, whether that means the politics of "
                  "nationalism, ethnicity, religion, ideology or social class."),
    ("Extremism", "An ideology that is far outside the mainstream attitudes of society, including vocal or active "
                  "opposition to fundamental British values, including democracy, the rule of law, individual liberty "
                  "and mutual respect and tolerance of different faiths and beliefs. This also includes calls for the "
                  "death of members of the British armed forces."),
    ("Channel", "Channel is an early intervention multi-agency process designed to safeguard vulnerable people from "
                "being drawn into violent extremist or terrorist behaviour. Channel works in a similar way to existing "
                "safeguarding partnerships aimed at protecting vulnerable people."),
)
