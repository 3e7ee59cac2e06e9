package dev.zenith;

import dev.zenith.MaskRules.Rule;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The masking rules' YAML: every rule, where each applies, and a clear refusal of what is not a rule. */
class MaskRulesTest {

    @Test
    void everyRuleIsReadWithItsDatabaseSchemaAndTable() {
        MaskRules rules = MaskRules.parse("""
                shop:
                  customers:
                    a: null
                    b: "null"
                    c: hash
                    d: email
                    e: name
                    f: phone
                  billing.cards:
                    g: {keep_last: 4}
                    h: {shift_days: 30}
                    i: {value: XX}
                    j: {sql: "left(j, 2)"}
                crm:
                  notes:
                    body: null
                """);
        assertThat(rules.columns()).extracting(MaskRules.Column::rule).containsExactly(new Rule.Null(), new Rule.Null(), new Rule.Hash(),
                new Rule.Email(), new Rule.Name(), new Rule.Phone(), new Rule.KeepLast(4), new Rule.ShiftDays(30), new Rule.Value("XX"),
                new Rule.Sql("left(j, 2)"), new Rule.Null());
        assertThat(rules.databases()).containsExactly("shop", "crm");
        assertThat(rules.tablesOf("shop").keySet()).containsExactly("public.customers", "billing.cards");
        assertThat(rules.tablesOf("shop").get("billing.cards").getFirst().where()).isEqualTo("shop.billing.cards.g");
    }

    @Test
    void whatIsNotARuleIsRefusedNamingTheColumn() {
        for (var bad : List.of(
                List.of("db:\n  t:\n    c: md5\n", "db.public.t.c: unknown rule \"md5\""),
                List.of("db:\n  t:\n    c: {keep_last: -1}\n", "db.public.t.c: keep_last takes a whole number of at least 1"),
                List.of("db:\n  t:\n    c: {shift_days: ten}\n", "shift_days takes a whole number"),
                List.of("db:\n  t:\n    c: {sql: \"\"}\n", "sql takes an expression"),
                List.of("db:\n  t: {}\n", "table t in the masking rules names no columns"),
                List.of("db: [\n", "not valid YAML"),
                List.of("", "name no database"))) {
            assertThatThrownBy(() -> MaskRules.parse(bad.get(0))).as(bad.get(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(bad.get(1)).hasMessageNotContaining("\n");
        }
    }
}
