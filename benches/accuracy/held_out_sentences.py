"""The held-out sentences of the accuracy corpus (`make_dev_corpus.py --set held-out`).

Written after the profiles' thresholds were chosen on the dev sentences, and never used to tune anything: a second
corpus, in the same groups and sizes as the dev one, to check whether what was tuned on the dev corpus holds on speech
it was not tuned on. Own sentences, none shared with the dev corpus or the bundled corpus.
"""

COMMANDS = [
    "Turn off the fan in the spare bedroom.",
    "Set the kitchen lights to half brightness.",
    "Play some quiet piano music in the lounge.",
    "Remind me to water the tomatoes at six.",
    "Open the garage door for the delivery van.",
    "Put eggs, butter and oranges on the shopping list.",
    "Turn the heating down before we go to bed.",
    "Lock the back door and close the kitchen window.",
    "Set a timer for twenty five minutes.",
    "Call the plumber and leave a message.",
    "Switch the hall light to motion sensing mode.",
    "Read me the weather forecast for tomorrow morning.",
    "Turn the television volume down to twelve.",
    "Start the dishwasher on the eco programme.",
    "Show the front door camera on the kitchen screen.",
    "Cancel my alarm for Saturday morning.",
    "Open the skylight in the attic for ten minutes.",
    "Dim every light on the ground floor.",
    "Play the news podcast from where I stopped.",
    "Turn on the towel warmer in the bathroom.",
    "Add a dentist appointment on Tuesday at four.",
    "Switch the porch camera to night mode.",
    "Turn the garden lights off at eleven.",
    "Ask the robot to clean under the dining table.",
    "Preheat the oven for the roast chicken.",
    "Water the lawn for fifteen minutes tomorrow at dawn.",
]

DICTATION = [
    "I am running late, so please start the meeting without me.",
    "The children built a snowman taller than their father.",
    "We should repaint the kitchen before the guests arrive.",
    "The ferry was delayed by an hour because of the fog.",
    "My brother finally finished restoring his old motorbike.",
    "The farmers market moves indoors for the winter months.",
    "She found a silver ring buried in the sand at the beach.",
    "Please bring a warm jacket, the evenings are getting cold.",
    "The library has extended its opening hours on Saturdays.",
    "Our apple tree produced more fruit than we could eat.",
    "The tailor shortened the sleeves of my winter coat.",
    "I left my umbrella on the bus again this morning.",
    "The orchestra rehearsed the symphony until late at night.",
    "Our landlord promised to repair the boiler next week.",
    "A family of foxes lives under the shed in the garden.",
    "The students planted a row of oak trees along the path.",
    "He wrapped the present in brown paper and string.",
    "The village school is celebrating its hundredth birthday.",
    "We watched the sunrise from the top of the hill.",
    "The baker added walnuts and honey to the morning loaf.",
    "Please water the plants while I am away on holiday.",
    "The new bridge will open to traffic in the autumn.",
    "My sister is learning to play the drums in the basement.",
    "The swallows returned to the barn early this year.",
    "We spent the whole afternoon sorting old photographs.",
]

NUMBERS = [
    "The bus leaves every fifteen minutes until midnight.",
    "Her phone number ends in three two six eight.",
    "The parcel costs eleven pounds fifty to send abroad.",
    "We walked nine kilometres along the canal today.",
    "The meeting starts at half past two in room seven.",
    "My grandfather turned ninety three last November.",
    "Mix one litre of water with four spoons of sugar.",
    "The tank holds about sixty litres of diesel.",
    "The school has four hundred and eighty pupils.",
    "The film lasts two hours and twenty minutes.",
    "Gate fourteen is at the far end of the terminal.",
    "The laptop charges to eighty percent in forty minutes.",
    "She ran the race in three hours and five minutes.",
    "The shop opens at nine and closes at half past five.",
    "The tower has three hundred and twelve steps.",
    "I owe you twenty two euros for the concert tickets.",
    "The lake is about forty metres deep in the middle.",
    "Our flight number is seven one five to Lisbon.",
    "The printer has printed ten thousand pages so far.",
    "The ferry carries up to six hundred passengers.",
    "The parking fee is four dollars for the first hour.",
    "We planted fifty tulip bulbs along the fence.",
]

NAMES = [
    "Thomas and Alice are visiting their cousins in Bristol.",
    "Ask Jennifer whether the report is ready.",
    "Peter left his guitar at Natalie's flat.",
    "Doctor Hughes will see you at three o'clock.",
    "Aunt Mary sends her love from Glasgow.",
    "Robert repaired the gate for Mrs Turner.",
    "Tell Amanda that the bus is running late.",
    "Samuel and Laura met at a concert in Vienna.",
    "Professor Green is giving a lecture on glaciers.",
    "Jessica borrowed the tent from Matthew.",
    "William still keeps chickens behind his cottage.",
    "Ask Andrew to book a table for Friday night.",
    "Charlotte is moving to Toronto in the spring.",
    "Sergeant Reid found the missing bicycle by the river.",
    "Anna and David painted the nursery yellow.",
    "Send the invitation to Louise and Richard.",
    "Brother Francis looks after the monastery garden.",
    "Victoria won the swimming gala for her school.",
    "Mister Baker runs the hardware shop on Mill Lane.",
    "Ask Elizabeth if she has seen the cat.",
    "Henry and Joseph are fishing on the lake.",
    "Caroline gave a speech at her sister's wedding.",
]

TECHNICAL = [
    "Update the operating system before installing the new driver.",
    "The backup drive is almost full, so delete the old snapshots.",
    "The server restarts automatically after a power failure.",
    "Connect the sensor to the third pin on the board.",
    "The website loads slowly because the images are too large.",
    "Change the default password on the router today.",
    "The battery monitor sends an alert below twenty percent.",
    "Run the tests again after you fix the broken import.",
    "The logs show a timeout when the database is busy.",
    "Copy the configuration to every node in the cluster.",
    "The laptop overheats when the fan is full of dust.",
    "Install the security patch before the end of the week.",
    "The app uploads photos only when the phone is on wireless.",
    "Set the camera to record at thirty frames per second.",
    "The query returns duplicate rows without a unique key.",
    "Restart the container if the health check keeps failing.",
    "The old hard disk makes a clicking noise when it spins up.",
    "Our robot uses a laser scanner to map the warehouse.",
    "Encrypt the backups before sending them to the cloud.",
    "The thermostat talks to the boiler over a radio link.",
    "The program stores its settings in a hidden folder.",
    "Lower the sample rate to save bandwidth on the link.",
    "The developer fixed the bug in the login form yesterday.",
    "Archive the old emails to keep the mailbox small.",
    "The smart meter reports power usage every ten seconds.",
    "Add more memory to the virtual machine before the upgrade.",
    "The keyboard stopped working after the spill.",
    "The network switch has twenty four ports and two uplinks.",
]

QUESTIONS = [
    "What time does the last bus to the airport leave?",
    "Have you seen my reading glasses anywhere?",
    "How warm will it be on Saturday afternoon?",
    "Where is the nearest petrol station from here?",
    "Can you recommend a good book about history?",
    "Is the post office open on Sunday mornings?",
    "Who painted the picture above the fireplace?",
    "How many eggs do I need for a sponge cake?",
    "When is the next full moon this year?",
    "Why is the sky red at sunset?",
    "Which road is faster at rush hour?",
    "Did the plumber say when he would come back?",
    "How do I reset the clock on the cooker?",
    "Are dogs allowed on the beach in summer?",
    "What is the tallest mountain in Scotland?",
    "Could you remind me what we agreed yesterday?",
]

# Long utterances, about 10-14 s each.
LONG = [
    "When we moved into the cottage, the garden was a jungle of brambles and nettles, but after two summers of hard "
    "work it now has a vegetable patch, a small pond and a bench where we drink coffee in the morning.",
    "The museum guide explained that the ship had sunk in a storm more than three hundred years ago, and that divers "
    "had spent a decade bringing up the cannons, the coins and the sailors' belongings piece by piece.",
    "Before the trip, check that your passport is valid for at least six months, that your insurance covers "
    "mountain walking, and that someone at home knows which huts you plan to sleep in each night.",
    "The bakery on the corner opens at five in the morning, and by seven there is already a queue of builders, "
    "nurses and students waiting for the warm cinnamon rolls that have made it famous across the town.",
    "If the printer shows a red light, open the front panel, remove any paper that is stuck inside, close the panel "
    "firmly, and wait until the light turns green before you send the document again.",
    "Our football club raised enough money this season to buy new goals, repaint the changing rooms and pay for a "
    "minibus that will take the youngest teams to their matches in the neighbouring villages.",
    "The weather service warned that heavy rain would move in from the west during the night, bringing strong "
    "winds along the coast and a risk of flooding in the low lying streets near the river.",
    "After dinner my grandfather would sit by the fire and tell us about the summers he spent on his uncle's farm, "
    "where he learned to milk the cows, drive the tractor and catch trout in the stream.",
    "The council plans to close the main street to cars on Sundays, plant trees along both pavements, and turn "
    "the old car park behind the church into a playground with benches and a small fountain.",
    "To make the soup, fry the onions slowly in butter, add the carrots and the lentils, pour in the stock, and let "
    "everything simmer for about forty minutes before you blend it until it is smooth.",
    "The technician replaced the broken screen, cleaned the dust out of the fans, and told me that the battery "
    "would need to be changed within a year if I kept charging it overnight every day.",
    "Every morning the fishing boats leave the harbour before dawn, and by lunchtime they are back, unloading boxes "
    "of cod, crab and mackerel onto the quay while the seagulls circle and scream above them.",
    "The volunteers spent the weekend clearing rubbish from the beach, and by Sunday evening they had filled more "
    "than eighty bags with plastic bottles, old nets, broken toys and pieces of rope.",
    "The school trip to the science museum was a great success, and the children talked for weeks about the giant "
    "model of the heart, the planetarium and the robot that answered their questions.",
]

STORY = [
    "High in the hills above the lake there is a small farm where the same family has kept sheep for generations.",
    "The farmer wakes at five every morning, long before the village below has opened its shutters.",
    "Her first job is to walk the fields with her two dogs and count the flock.",
    "In spring the lambs arrive, sometimes ten in a single night, and nobody in the house sleeps much.",
    "The children help after school, feeding the weakest lambs with bottles of warm milk by the stove.",
    "In summer the sheep are moved to the high pastures, where the grass is sweet and the air is cool.",
    "The move takes a whole day, and neighbours come to help keep the flock together on the narrow paths.",
    "When autumn comes, the wool is sheared, washed and sent to a mill in the next valley.",
    "The mill has been spinning yarn for almost two hundred years, powered for most of that time by the river.",
    "Some of the yarn comes back to the farm, and in winter the family knits jumpers, hats and blankets.",
    "They sell them at the Christmas market, together with cheese made from the milk of their few goats.",
    "Tourists often ask how long it takes to knit a jumper, and the answer is always longer than you think.",
    "The farmer's grandmother, who is nearly ninety, still knits faster than anyone else in the family.",
    "She says that her hands remember the patterns even when her mind is thinking about something else.",
    "On long winter evenings she teaches the children the old patterns, one row at a time.",
    "Outside, the wind howls over the hills and the snow piles up against the barn door.",
    "Inside, the kitchen is warm, the kettle is always on, and the dogs sleep in front of the fire.",
    "And every year, when the first lamb is born, the whole family gathers in the barn to welcome it.",
]

GROUPS = [("command", COMMANDS), ("dictation", DICTATION), ("number", NUMBERS), ("name", NAMES),
          ("technical", TECHNICAL), ("question", QUESTIONS)]
