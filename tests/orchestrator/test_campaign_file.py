"""Every kind of bad campaign file: exit code 2, the field named, what is valid, and no store left."""

import copy
import pickle

import pytest

from orchestrator.campaign import CampaignFileError, parse_campaign


def bad(quickstart, change):
    campaign = copy.deepcopy(quickstart)
    change(campaign)
    return campaign


CASES = {
    "unknown top-level key": (
        lambda c: c.update(budgett=10),
        ["budgett: unknown key", "valid keys here: name, description, space"],
    ),
    "unknown nested key": (
        lambda c: c["instrument"].update(exposure=3),
        ["instrument.exposure: unknown key", "valid keys here: kind, world, table, inputs, count_time_s"],
    ),
    "wrong type": (
        lambda c: c.update(budget="twenty"),
        ["budget: Input should be a valid integer", "'twenty'"],
    ),
    "wrong type of bound": (
        lambda c: c["space"]["composition"].update(Fe=[0.4, "lots"]),
        ["space.composition.Fe.1: Input should be a valid number", "'lots'"],
    ),
    "bounds leave the simplex empty": (
        lambda c: c["space"]["composition"].update(Fe=[0.8, 0.95], Ga=[0.3, 0.45]),
        ["space: lower bounds sum to 1.1 > 1: no composition fits"],
    ),
    "lower above upper": (
        lambda c: c["space"]["composition"].update(Pd=[0.3, 0.1]),
        ["space: bounds of Pd are [0.3, 0.1]; need 0 <= lower <= upper <= 1"],
    ),
    "budget zero": (lambda c: c.update(budget=0), ["budget: Input should be greater than 0 (got 0)"]),
    "budget negative": (lambda c: c.update(budget=-5), ["budget: Input should be greater than 0 (got -5)"]),
    "missing field": (lambda c: c.pop("objectives"), ["objectives: required, but missing"]),
    "unknown goal": (
        lambda c: c["objectives"][0].update(goal="maximise"),
        ["objectives.0.goal: Input should be 'maximize' or 'minimize' (got 'maximise')"],
    ),
    "unknown world": (
        lambda c: c["instrument"].update(world="atlantis"),
        [
            "instrument.world: unknown world 'atlantis'; shipped worlds: "
            "['fe-co-ni-oxide', 'fe-ga-pd', 'quaternary-hetero', 'ternary-magnet']"
        ],
    ),
    "objective the world cannot measure": (
        lambda c: c["objectives"][0].update(name="band_gap"),
        ["objectives.0.name: world 'ternary-magnet' does not measure 'band_gap'", "['magnetization']"],
    ),
    "elements the world does not have": (
        lambda c: c["space"].update(composition={"Fe": [0.4, 0.95], "Co": [0, 0.45], "Pd": [0, 0.3]}),
        ["space.composition: elements ['Fe', 'Co', 'Pd'] do not match world", "['Fe', 'Ga', 'Pd']"],
    ),
    "rules no composition satisfies": (
        lambda c: c["space"].update(linear_constraints=[{"terms": {"Fe": 1.0}, "max": 0.2}]),
        ["space: no composition within the bounds satisfies the constraints: 1*Fe <= 0.2"],
    ),
    "a rule on an element not in the space": (
        lambda c: c["space"].update(linear_constraints=[{"terms": {"Co": 1.0}, "max": 0.2}]),
        ["space: constraint 1*Co <= 0.2 names ['Co']"],
    ),
    "a prior that does not import": (
        lambda c: c["policy"].update(prior="no_such_module:weights"),
        ["policy.prior: cannot import module 'no_such_module'"],
    ),
    "a prior of the wrong shape": (
        lambda c: c["policy"].update(prior="tests.orchestrator.expert_priors:wrong_shape"),
        ["policy.prior: prior 'tests.orchestrator.expert_priors:wrong_shape' must return one weight"],
    ),
    "a constraint on an outcome nobody measures": (
        lambda c: c["policy"].update(constraints=[{"outcome": "hardness", "sense": ">=", "bound": 1.0}]),
        ["policy.constraints.0.outcome: 'hardness' is not measured here"],
    ),
    "kind epics with no epics section": (
        lambda c: c["instrument"].update(kind="epics"),
        ["instrument: kind 'epics' needs an epics section (prefix), and only kind 'epics' takes one"],
    ),
    "an epics section on a simulated instrument": (
        lambda c: c["instrument"].update(epics={"prefix": "BL7:"}),
        ["instrument: kind 'epics' needs an epics section (prefix), and only kind 'epics' takes one"],
    ),
    "a PV prefix with a space": (
        lambda c: c["instrument"].update(kind="epics", epics={"prefix": "BL 7:"}),
        ["instrument.epics.prefix: String should match pattern", "'BL 7:'"],
    ),
    "two objectives for a single-objective policy": (
        lambda c: c["objectives"].append({"name": "other", "goal": "minimize"}),
        ["policy 'qlognei' optimises one objective; this campaign has 2"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_campaign_is_refused_by_run_with_exit_2_naming_the_field_and_leaves_no_store(
    case, quickstart, write_campaign, junkan, tmp_path
):
    change, expected = CASES[case]
    path = write_campaign(bad(quickstart, change))
    store = tmp_path / "store"
    result = junkan("run", path, "--store", store)
    assert result.exit_code == 2, result.output
    for fragment in expected:
        assert fragment in result.output, result.output
    assert not store.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no staging directory either


@pytest.mark.parametrize("case", list(CASES))
def test_validate_explains_the_same_error(case, quickstart, write_campaign, junkan):
    change, expected = CASES[case]
    result = junkan("validate", write_campaign(bad(quickstart, change)))
    assert result.exit_code == 2
    for fragment in expected:
        assert fragment in result.output, result.output


def test_validate_lists_every_error_found(quickstart, write_campaign, junkan):
    campaign = bad(quickstart, lambda c: c.update(budget=0, colour="red", seed="x"))
    result = junkan("validate", write_campaign(campaign))
    assert result.exit_code == 2
    assert "3 errors" in result.output
    for fragment in ("budget:", "colour: unknown key", "seed: Input should be a valid integer"):
        assert fragment in result.output


def test_validate_accepts_the_quickstart(write_campaign, quickstart, junkan):
    result = junkan("validate", write_campaign(quickstart))
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output and "budget 20" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [("name: [unclosed", "not valid YAML"), ("- a\n- b\n", "expected a mapping of keys")],
)
def test_files_that_are_not_campaigns_are_explained(text, message, write_campaign, junkan):
    result = junkan("validate", write_campaign(text))
    assert result.exit_code == 2 and message in result.output


def test_a_missing_file_is_explained(junkan, tmp_path):
    result = junkan("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "cannot read" in result.output


def test_a_users_world_by_import_path_validates(quickstart):
    import yaml

    quickstart["instrument"]["world"] = "tests.simulators.custom_world:build"
    spec = parse_campaign(yaml.safe_dump(quickstart, sort_keys=False))
    assert spec.instrument.world.endswith(":build")


def test_replicates_and_outcome_warps_reach_the_policy(quickstart):
    import yaml

    from orchestrator.wiring import build_policy

    default = build_policy(parse_campaign(yaml.safe_dump(quickstart, sort_keys=False)), seed=0)
    assert default.allow_repeats is False and not any(default.surrogates.warps_allowed.values())
    quickstart["policy"].update(replicates=True, outcome_warps=True)
    asked = build_policy(parse_campaign(yaml.safe_dump(quickstart, sort_keys=False)), seed=0)
    assert asked.allow_repeats is True and asked.surrogates.warps_allowed == {"magnetization": True}


def test_a_campaign_file_error_crosses_a_process_boundary_whole():
    """Pool replay runs seeds in worker processes; their errors are pickled back to the parent."""
    error = CampaignFileError("seed-3/campaign.yaml", ["instrument.table: inputs ['x'] do not fit"])
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, CampaignFileError) and str(again) == str(error)
    assert again.source == error.source and again.problems == error.problems
