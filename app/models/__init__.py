"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from app.models.anonymous_events import AnonymousEvent, AnonymousLink
from app.models.contacts import BUILTIN_ATTRIBUTES, Contact, ContactList, ListMembership
from app.models.enrollments import Enrollment, EnrollmentState, StepLog, StepOutcome
from app.models.entry_queue import EntryQueue, EntryRamp
from app.models.events import Event
from app.models.forms import ConsentProof, FormConfirmation, SignupForm
from app.models.messages import Channel, MailboxMessage, MessagePurpose, MessageTemplate
from app.models.outbox import OutboxMessage, OutboxStatus
from app.models.scenarios import Scenario, ScenarioStatus, ScenarioVersion
from app.models.segments import (
    ContactImport,
    ImportRejection,
    ImportStatus,
    Segment,
    Suppression,
)
from app.models.sending_rules import SendingRules
from app.models.simulations import Simulation, SimulationStatus
from app.models.topics import ContactTopic, Topic
from app.models.users import ApiKey, User, UserSession, Workspace

__all__ = [
    "BUILTIN_ATTRIBUTES",
    "AnonymousEvent",
    "AnonymousLink",
    "ApiKey",
    "Channel",
    "ConsentProof",
    "Contact",
    "ContactImport",
    "ContactList",
    "ContactTopic",
    "Enrollment",
    "EnrollmentState",
    "EntryQueue",
    "EntryRamp",
    "Event",
    "FormConfirmation",
    "ImportRejection",
    "ImportStatus",
    "ListMembership",
    "MailboxMessage",
    "MessagePurpose",
    "MessageTemplate",
    "OutboxMessage",
    "OutboxStatus",
    "Scenario",
    "ScenarioStatus",
    "ScenarioVersion",
    "Segment",
    "SendingRules",
    "SignupForm",
    "Simulation",
    "SimulationStatus",
    "StepLog",
    "StepOutcome",
    "Suppression",
    "Topic",
    "User",
    "UserSession",
    "Workspace",
]
