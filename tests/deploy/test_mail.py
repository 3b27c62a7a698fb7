"""Mail in the templates: the sender's SES identity sending through a configuration set that
suppresses bounced and complained addresses and publishes those events to a queue that keeps
them 14 days; only the daemons may send, through that set, from MailFrom."""

from __future__ import annotations

from app.config import Settings
from app.ops.provision import stack_parameters
from app.ports.mail.aws import CONFIGURATION_SET, MAIL_EVENTS
from tests.deploy.template import DATA_PLANE, GAS, listed, parse


def test_the_data_plane_makes_the_identity_and_the_configuration_set() -> None:
    """`gas aws provision`'s template has the identity (MailFrom, or SesIdentity when given)
    defaulting to the set, the set suppressing bounces and complaints, and its bounce,
    complaint and reject events to mail-events, which SES alone (this account's set) may
    publish to and whose queue keeps them 14 days; provision passes MailFrom."""
    template = parse(DATA_PLANE)
    resources = template["Resources"]
    identity = resources["MailIdentity"]["Properties"]
    assert identity["EmailIdentity"] == {"Fn::If": ["MailFromIsTheIdentity", {"Ref": "MailFrom"},
                                                     {"Ref": "SesIdentity"}]}
    assert template["Conditions"]["MailFromIsTheIdentity"] == {"Fn::Equals": [{"Ref": "SesIdentity"}, ""]}
    assert identity["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": "MailConfiguration"}

    configuration = resources["MailConfiguration"]["Properties"]
    assert configuration["Name"] == {"Fn::Sub": "${NamePrefix}" + CONFIGURATION_SET}
    assert sorted(configuration["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]

    destination = resources["MailEvents"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfiguration"}
    events = destination["EventDestination"]
    assert events["Enabled"] is True and {"bounce", "complaint"} <= set(events["MatchingEventTypes"])
    assert events["SnsDestination"]["TopicARN"] == {"Ref": "MailEventsTopic"}

    topic = resources["MailEventsTopic"]["Properties"]
    assert topic["TopicName"] == {"Fn::Sub": "${NamePrefix}" + MAIL_EVENTS}
    [publish] = resources["MailEventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert publish["Principal"] == {"Service": "ses.amazonaws.com"} and publish["Action"] == "sns:Publish"
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":configuration-set/${NamePrefix}" + CONFIGURATION_SET)

    queue = resources["MailEventsQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${NamePrefix}" + MAIL_EVENTS}
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    subscription = resources["MailEventsSubscription"]["Properties"]
    assert (subscription["TopicArn"], subscription["Endpoint"]) == (
        {"Ref": "MailEventsTopic"}, {"Fn::GetAtt": ["MailEventsQueue", "Arn"]})
    assert stack_parameters(Settings(mail_from="GAS <gas@example.org>"))["MailFrom"] == "gas@example.org"


def test_only_the_daemons_send_through_the_set_from_mail_from() -> None:
    """The daemons' SendRawEmail names the identities and the configuration set (SES checks
    both when a mail names a set), only from MailFrom."""
    resources = parse(GAS)["Resources"]
    sending = [s for role in ("WebRole", "AnnotatorRole", "DaemonsRole")
               for policy in resources[role]["Properties"]["Policies"]
               for s in policy["PolicyDocument"]["Statement"] if "ses:SendRawEmail" in listed(s["Action"])]
    [statement] = sending
    assert statement in [s for policy in resources["DaemonsRole"]["Properties"]["Policies"]
                         for s in policy["PolicyDocument"]["Statement"]]
    arns = [r["Fn::Sub"] for r in statement["Resource"]]
    assert any(a.endswith(":identity/*") for a in arns)
    assert any(a.endswith(":configuration-set/${NamePrefix}" + CONFIGURATION_SET) for a in arns)
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}
