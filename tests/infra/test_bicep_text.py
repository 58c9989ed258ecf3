"""The text reader the drift tests stand on: comments, strings and brackets read right."""

from __future__ import annotations

import pytest

from tests.infra.bicep_text import BicepSyntaxError, BicepText

SAMPLE = """
// the app's queues (an apostrophe in a comment is not a string)
var names = [
  'a'
  // 'commented-out'
  'b' /* 'also out' */
]
var url = 'https://example.com/${concat('x', '}')}' // '//' inside a string is not a comment
/*
resource ghost 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  name: 'ghost'
}
*/
resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for name in names: {
    name: name
    properties: {
      maxDeliveryCount: 5 // from the code
      lockDuration: 'PT1M'
    }
  }
]
"""


def test_commented_out_items_and_resources_do_not_count():
    bicep = BicepText(SAMPLE)
    assert bicep.string_array("names") == ["a", "b"]
    assert [resource.symbol for resource in bicep.resources()] == ["queues"]


def test_a_loop_resource_knows_its_item_source_and_properties():
    (queues,) = BicepText(SAMPLE).resources("Microsoft.ServiceBus/namespaces/queues")
    assert (queues.loop_item, queues.loop_source) == ("name", "names")
    assert queues.property("maxDeliveryCount") == "5"
    assert queues.property("lockDuration") == "'PT1M'"
    assert queues.property("deadLetteringOnMessageExpiration") is None


def test_an_interpolated_string_is_not_a_literal():
    bicep = BicepText(SAMPLE)
    assert bicep.variable("url") == "'https://example.com/${concat('x', '}')}'"
    assert bicep.literal("url") is None
    assert bicep.literal("'PT1M'") == "PT1M"


@pytest.mark.parametrize(
    "broken",
    ["var a = [\n  'x'\n", "var a = 'unterminated\n", "var a = {\n  b: [1}\n}\n", "/* never closed"],
)
def test_broken_text_is_refused_not_half_read(broken):
    with pytest.raises(BicepSyntaxError):
        BicepText(broken)
