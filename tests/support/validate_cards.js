#!/usr/bin/env node
// Checks Adaptive Cards with Microsoft's own `adaptivecards` package, as a second opinion
// next to our Python checks.
//
//   node validate_cards.js [path/to/node_modules/adaptivecards] < cards.json > problems.json
//
// stdin:  [{"name": "menu_card[fi]", "card": {...}}, ...]
// stdout: [{"name": "menu_card[fi]", "problems": ["...", ...]}, ...]  (same order)
//
// Each card is parsed for schema 1.5 (what Teams renders). A problem is:
// - any event the SerializationContext logs while parsing: unknown element or action types
//   (including types newer than 1.5, such as Carousel), invalid or post-1.5 property values,
//   properties newer than 1.5, ...;
// - any failure from card.validateProperties(): duplicate ids, unsupported card version,
//   required inputs without a label, ...;
// - a declared "version" other than "1.5";
// - a property that the library does not know on an element or action (it ignores those
//   silently, so a typo such as "wieght" would otherwise pass);
// - an exception while parsing.
//
// Shims: none. dist/adaptivecards.js touches the DOM only when rendering, so loading and
// parsing work in plain Node.js 20 without `document` or `window`.
"use strict";

const fs = require("fs");
const path = require("path");

const packageDir = process.argv[2] || path.join(__dirname, "..", "..", "node_modules", "adaptivecards");
const AC = require(path.join(path.resolve(packageDir), "dist", "adaptivecards.js"));

const TARGET_VERSION = AC.Versions.v1_5;
const DECLARED_VERSION = "1.5";

// Keys that card objects read in their own parse code rather than through their schema,
// plus `msteams`, the Teams extension (full width, mentions) on the card itself.
const COLLECTION_KEYS = new Set([
    "body", "items", "actions", "columns", "rows", "cells", "inlines", "card", "pages", "fallback",
]);
const ROOT_EXTENSION_KEYS = new Set(["msteams"]);

function label(cardObject) {
    return cardObject.getJsonTypeName() + (cardObject.id ? `#${cardObject.id}` : "");
}

function describe(source) {
    if (!source || typeof source.getJsonTypeName !== "function") {
        return "";
    }
    return ` (in ${label(source)})`;
}

function eventProblem(event) {
    const phase = AC.ValidationPhase[event.phase];
    const kind = AC.ValidationEvent[event.event];
    return `${phase}/${kind}: ${event.message}${describe(event.source)}`;
}

function knownKeys(cardObject) {
    const schema = cardObject.getSchema();
    const names = new Set(COLLECTION_KEYS);
    for (let i = 0; i < schema.getCount(); i++) {
        names.add(schema.getItemAt(i).name);
    }
    return names;
}

function unknownKeys(cardObject, source, extraKeys) {
    if (!source || typeof source !== "object" || Array.isArray(source)) {
        return [];
    }
    const known = knownKeys(cardObject);
    return Object.keys(source)
        .filter((key) => !known.has(key) && !extraKeys.has(key))
        .map((key) => `UnknownProperty: "${key}" is not a property of ${label(cardObject)}`);
}

function validate(json) {
    if (!json || typeof json !== "object" || Array.isArray(json)) {
        return ["the card is not a JSON object"];
    }
    const problems = [];

    if (json.version !== DECLARED_VERSION) {
        problems.push(
            `Version: the card declares version ${JSON.stringify(json.version)}, `
            + `not "${DECLARED_VERSION}"`
        );
    }

    const context = new AC.SerializationContext(TARGET_VERSION);
    context.targetVersion = TARGET_VERSION;
    const strayKeys = [];
    const none = new Set();
    context.onParseElement = (element, source) => strayKeys.push(...unknownKeys(element, source, none));
    context.onParseAction = (action, source) => strayKeys.push(...unknownKeys(action, source, none));

    const card = new AC.AdaptiveCard();
    try {
        card.parse(json, context);
    } catch (error) {
        problems.push(`Exception while parsing: ${error && error.stack ? error.stack : error}`);
        return problems;
    }
    strayKeys.unshift(...unknownKeys(card, json, ROOT_EXTENSION_KEYS));

    for (let i = 0; i < context.eventCount; i++) {
        problems.push(eventProblem(context.getEventAt(i)));
    }

    let results;
    try {
        results = card.validateProperties();
    } catch (error) {
        problems.push(`Exception while validating: ${error && error.stack ? error.stack : error}`);
        return problems;
    }
    for (const event of results.validationEvents) {
        problems.push(eventProblem(event));
    }
    for (const [id, count] of Object.entries(results.allIds)) {
        // validateProperties reports duplicates as DuplicateId events; this is a backstop.
        if (count > 1 && !problems.some((p) => p.includes("DuplicateId") && p.includes(`"${id}"`))) {
            problems.push(`DuplicateId: id "${id}" is used ${count} times`);
        }
    }

    problems.push(...strayKeys);
    return problems;
}

function main() {
    const input = JSON.parse(fs.readFileSync(0, "utf-8"));
    if (!Array.isArray(input)) {
        throw new Error("stdin must be a JSON array of {name, card}");
    }
    const output = input.map(({ name, card }) => ({ name, problems: validate(card) }));
    process.stdout.write(JSON.stringify(output));
}

main();
