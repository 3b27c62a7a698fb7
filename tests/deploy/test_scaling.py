"""deploy/gas.yaml's groups through a release and a scale-out: who stays in service,
how long a new instance warms up, what the web group scales on."""

from __future__ import annotations

from tests.deploy.template import GAS, parse


def test_every_group_keeps_one_instance_in_service_through_a_release() -> None:
    """A release (new launch template) replaces instances one at a time and keeps at
    least one of each group working meanwhile (annotators and daemons were left with
    none); CloudFormation requires that figure below the group's MaxSize, so each
    group's MaxSize leaves room for the replacement it starts first."""
    template = parse(GAS)
    parameters, resources = template["Parameters"], template["Resources"]
    groups = {k: r for k, r in resources.items() if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"}
    assert sorted(groups) == ["AnnotatorGroup", "DaemonsGroup", "WebGroup"]
    for name, group in groups.items():
        rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
        assert rolling["MinInstancesInService"] >= 1, name
        assert rolling["MaxBatchSize"] == 1 and rolling["WaitOnResourceSignals"] is True, name
        most = group["Properties"]["MaxSize"]
        least_max = parameters[most["Ref"]]["MinValue"] if isinstance(most, dict) else most
        assert least_max > rolling["MinInstancesInService"], name
    assert groups["DaemonsGroup"]["Properties"]["MaxSize"] > parameters["DaemonsCount"]["MaxValue"]


def test_annotators_run_two_and_new_instances_warm_up() -> None:
    """At least two annotators by default (as the seeds ran), and an instance still
    booting (installing, fetching the reference) is left out of the scaling figures."""
    template = parse(GAS)
    assert template["Parameters"]["AnnotatorMinSize"]["Default"] == 2
    resources = template["Resources"]
    assert resources["AnnotatorGroup"]["Properties"]["DefaultInstanceWarmup"] >= 300
    assert resources["WebGroup"]["Properties"]["DefaultInstanceWarmup"] >= 120


def test_the_web_group_scales_on_requests_per_target() -> None:
    """Web instances are added on load-balancer requests per instance (the target a
    parameter), not on CPU."""
    resources = parse(GAS)["Resources"]
    policies = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::AutoScaling::ScalingPolicy"
                and r["Properties"]["AutoScalingGroupName"] == {"Ref": "WebGroup"}]
    [policy] = policies
    tracking = policy["TargetTrackingConfiguration"]
    predefined = tracking["PredefinedMetricSpecification"]
    assert predefined["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    assert predefined["ResourceLabel"] == {"Fn::Join": ["/", [
        {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]},
        {"Fn::GetAtt": ["WebTargetGroup", "TargetGroupFullName"]}]]}
    assert tracking["TargetValue"] == {"Ref": "WebRequestsPerTarget"}
    assert "ASGAverageCPUUtilization" not in GAS.read_text()


def test_an_annotator_may_protect_only_its_own_group() -> None:
    """The annotator role alone may call SetInstanceProtection, on the annotator group's
    ARN only; the annotators' launch template shows the instance its group's tag in the
    metadata service, and the stack's settings turn the protection on."""
    resources = parse(GAS)["Resources"]
    policy = resources["AnnotatorProtectionPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "AnnotatorRole"}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "autoscaling:SetInstanceProtection")
    assert statement["Resource"] == {"Fn::Sub": (
        "arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:"
        "autoScalingGroupName/${AnnotatorGroup}")}
    others = [r for k, r in resources.items() if k != "AnnotatorProtectionPolicy"
              and r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role")]
    assert "SetInstanceProtection" not in str(others)
    options = resources["AnnotatorLaunchTemplate"]["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert options["HttpTokens"] == "required" and options["InstanceMetadataTags"] == "enabled"
    settings = resources["Settings"]["Properties"]["Value"]["Fn::Sub"]
    assert "GAS_ANNOTATOR_SCALE_IN_PROTECTION=true\n" in settings


def test_the_image_is_a_parameter_an_update_does_not_change() -> None:
    """Every launch template runs the ImageId given, a plain AMI id: no SSM "latest"
    path that a stack update would resolve to a new image by itself."""
    template = parse(GAS)
    image = template["Parameters"]["ImageId"]
    assert image["Type"] == "AWS::EC2::Image::Id" and "Default" not in image
    assert "al2023-ami-kernel-default-x86_64" in image["Description"]  # how to find the current one
    templates = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::LaunchTemplate"]
    assert len(templates) == 3
    assert all(t["Properties"]["LaunchTemplateData"]["ImageId"] == {"Ref": "ImageId"} for t in templates)
    assert "AWS::SSM::Parameter::Value" not in GAS.read_text()
