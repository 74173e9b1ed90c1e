"""Make the vocabulary-biasing dev set in tests/fixtures/vocabulary/ (issue 13): utterances with names and technical
terms a user would list, and utterances with none of them. Own sentences (not the project corpus's); the same voices
as the corpus (piper joe-medium at three speeds, espeak-ng variants); deterministic.

    python models/export/make_vocabulary_set.py --out tests/fixtures/vocabulary
    python models/export/make_vocabulary_set.py --said --out DIR

Writes <id>.wav (16 kHz mono 16-bit) and manifest.tsv: file, voice, text, terms (the listed terms spoken in it,
separated by `|`; empty for the utterances without any). terms.txt holds the whole term list, one per line.

With `--said`, only the utterances with terms, each in the same voice as in the fixtures but with the names the
voices read unlike people say them ("Tadhg" as "tad-g", "Niamh" as "nye-am") written for the synthesizer as they are
said (`SAID`); the manifest keeps the real spelling. A second recall set for benches/vocabulary/harm.py `--terms`:
it tells what the engine misses from what the synthetic voices get wrong.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from make_corpus import RATE_HZ, piper_voice, resample, synth_espeak, synth_piper, with_margins, write_wav

# The term list a user would give: contacts, rooms, devices, products, jargon.
TERMS = [
    "Aoife", "Siobhan", "Niamh", "Tadhg", "Saoirse", "Xavier", "Joaquin", "Nguyen", "Priyanka", "Oluwaseun",
    "Ecobee", "Hue Bridge", "Roborock", "Sonos", "Zigbee", "Shelly", "Tado", "Nanoleaf",
    "PostgreSQL", "Kubernetes", "Grafana", "nginx", "Redis", "Terraform", "Ansible", "Prometheus",
    "Raspberry Pi", "ESPHome", "Tasmota", "MQTT",
]

# How people say the names the voices read wrongly (espeak-ng, which piper also phonemizes with: Tadhg t'adg,
# Niamh n'aI@m, Oluwaseun '0lu:w,eIsVn, Joaquin dZ'oUkwIn, Redis rI#d'iz, ...), spelled for the synthesizer.
SAID = {
    "Tadhg": "Tyge", "Niamh": "Neeve", "Saoirse": "Seersha", "Oluwaseun": "Oh loo wah shay oon",
    "Joaquin": "Wahkeen", "Nguyen": "Win", "Redis": "Red iss", "Kubernetes": "Koober netties",
    "PostgreSQL": "Post gress Q L", "ESPHome": "E S P Home",
}

VOICES = ["joe", "joe-fast", "joe-slow", "espeak:en-us", "espeak:en-gb", "espeak:en-us+f3"]

# (sentence, terms spoken in it). Each term appears at least once; several twice, in other voices.
WITH_TERMS = [
    ("Send a message to Aoife saying I am on my way.", ["Aoife"]),
    ("Call Siobhan when the meeting is over.", ["Siobhan"]),
    ("Niamh will pick up the children from school today.", ["Niamh"]),
    ("Remind Tadhg to bring the tickets on Saturday.", ["Tadhg"]),
    ("Saoirse booked a table for six at eight o'clock.", ["Saoirse"]),
    ("Xavier moved the release to next Thursday.", ["Xavier"]),
    ("Ask Joaquin whether the van is free tomorrow.", ["Joaquin"]),
    ("Doctor Nguyen has an opening on Monday morning.", ["Nguyen"]),
    ("Priyanka reviewed the budget before lunch.", ["Priyanka"]),
    ("Oluwaseun is presenting the results to the board.", ["Oluwaseun"]),
    ("Set the Ecobee in the hallway to twenty one degrees.", ["Ecobee"]),
    ("Restart the Hue Bridge in the living room.", ["Hue Bridge"]),
    ("Tell the Roborock to clean the kitchen.", ["Roborock"]),
    ("Play the news on the Sonos speaker upstairs.", ["Sonos"]),
    ("The Zigbee network lost two sensors last night.", ["Zigbee"]),
    ("Switch off the Shelly plug in the garage.", ["Shelly"]),
    ("Lower the Tado thermostat in the bedroom.", ["Tado"]),
    ("Turn the Nanoleaf panels to a warm colour.", ["Nanoleaf"]),
    ("The PostgreSQL database needs a new index.", ["PostgreSQL"]),
    ("Deploy the service to the Kubernetes cluster.", ["Kubernetes"]),
    ("Open the Grafana dashboard for the web servers.", ["Grafana"]),
    ("Reload nginx after you change the certificate.", ["nginx"]),
    ("Clear the Redis cache before the next test.", ["Redis"]),
    ("Run Terraform to create the staging network.", ["Terraform"]),
    ("The Ansible playbook failed on the second host.", ["Ansible"]),
    ("Prometheus stopped scraping the storage nodes.", ["Prometheus"]),
    ("Flash the new image onto the Raspberry Pi.", ["Raspberry Pi"]),
    ("Add the door sensor to ESPHome tonight.", ["ESPHome"]),
    ("Update the Tasmota firmware on all the plugs.", ["Tasmota"]),
    ("The MQTT broker is refusing new connections.", ["MQTT"]),
    ("Tell Aoife and Niamh that dinner is ready.", ["Aoife", "Niamh"]),
    ("Saoirse fixed the Grafana alert this morning.", ["Saoirse", "Grafana"]),
    ("Xavier wants the Redis logs from yesterday.", ["Xavier", "Redis"]),
    ("Priyanka set up Prometheus on the Raspberry Pi.", ["Priyanka", "Prometheus", "Raspberry Pi"]),
    ("Ask Tadhg to check the Zigbee coordinator.", ["Tadhg", "Zigbee"]),
    ("Joaquin wrote the Ansible role for nginx.", ["Joaquin", "Ansible", "nginx"]),
    ("Siobhan is moving the PostgreSQL backups to Kubernetes.", ["Siobhan", "PostgreSQL", "Kubernetes"]),
    ("Turn on the Sonos and dim the Nanoleaf.", ["Sonos", "Nanoleaf"]),
    ("Oluwaseun said the MQTT bridge reaches the Shelly relays.", ["Oluwaseun", "MQTT", "Shelly"]),
    ("Doctor Nguyen asked about the Ecobee schedule.", ["Nguyen", "Ecobee"]),
    ("Use Terraform for the network and Tasmota for the plugs.", ["Terraform", "Tasmota"]),
    ("The Roborock and the Tado both need new batteries.", ["Roborock", "Tado"]),
    ("ESPHome talks to the Hue Bridge over the local network.", ["ESPHome", "Hue Bridge"]),
]

# Utterances with none of the terms: commands, dictation, questions (own sentences).
WITHOUT_TERMS = [
    "Turn on the lights in the bathroom.",
    "What is the weather going to be like this weekend?",
    "Set an alarm for half past six tomorrow.",
    "Add eggs and bread to the shopping list.",
    "How long does it take to drive to the airport?",
    "Close the blinds in the office.",
    "Play something relaxing in the bedroom.",
    "The train was twenty minutes late again this morning.",
    "Please move my dentist appointment to next week.",
    "Lock the front door and arm the alarm.",
    "Is the post office open on Sunday?",
    "Start the dishwasher at midnight.",
    "I left my umbrella at the restaurant.",
    "Read me the first three messages.",
    "Make the kitchen lights a little brighter.",
    "The printer on the second floor is out of paper.",
    "What time is the football match tonight?",
    "Water the garden for fifteen minutes.",
    "We need to finish the report before Friday.",
    "Turn the volume down in the living room.",
    "How many days are left until the holiday?",
    "Open the windows when the sun comes out.",
    "The library closes early during the summer.",
    "Pause the music and turn off the television.",
    "My flight lands at a quarter to nine.",
    "Put the heating on for an hour.",
    "Remind me to call the bank after lunch.",
    "The parcel was left with the neighbour.",
    "Switch the fan to the lowest setting.",
    "How much does a return ticket cost?",
    "The children are playing in the park.",
    "Tell me a joke about penguins.",
    "Turn off every light on the ground floor.",
    "The meeting room on the third floor is booked.",
    "Check whether the back door is locked.",
    "Bake the bread for forty minutes.",
    "The shop on the corner sells fresh flowers.",
    "Set the oven to two hundred degrees.",
    "What did I put on the calendar for today?",
    "The bus to the city leaves every ten minutes.",
    "Cancel the timer in the kitchen.",
    "It has been raining since early this morning.",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--said", action="store_true", help="the term utterances with the names said as people do")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    voice = piper_voice()
    scales = {"joe": 1.0, "joe-fast": 0.85, "joe-slow": 1.15}
    rows = []
    items = [(f"term{i + 1:02d}", text, terms) for i, (text, terms) in enumerate(WITH_TERMS)]
    if not args.said:
        items += [(f"plain{i + 1:02d}", text, []) for i, text in enumerate(WITHOUT_TERMS)]
    for k, (clip, text, terms) in enumerate(items):
        voice_name = VOICES[k % len(VOICES)]
        spoken = text
        if args.said:
            for term in terms:
                spoken = spoken.replace(term, SAID.get(term, term))
        if voice_name.startswith("espeak:"):
            audio, rate = synth_espeak(voice_name.split(":", 1)[1], spoken)
        else:
            audio, rate = synth_piper(voice, spoken, scales[voice_name])
        audio = with_margins(resample(audio, rate, RATE_HZ), RATE_HZ)
        write_wav(args.out / f"{clip}.wav", audio, RATE_HZ)
        rows.append(f"{clip}.wav\t{voice_name}\t{text}\t{'|'.join(terms)}")
    (args.out / "manifest.tsv").write_text("file\tvoice\ttext\tterms\n" + "\n".join(rows) + "\n")
    if args.said:
        print(f"{len(items)} clips with names said as people say them")
        return
    (args.out / "terms.txt").write_text("# The vocabulary-biasing dev set's term list (issue 13)\n" + "\n".join(TERMS) + "\n")
    spoken = {t for _, terms in WITH_TERMS for t in terms}
    assert spoken == set(TERMS), set(TERMS) ^ spoken
    print(f"{len(items)} clips ({len(WITH_TERMS)} with terms, {len(WITHOUT_TERMS)} without), {len(TERMS)} terms")


if __name__ == "__main__":
    main()
