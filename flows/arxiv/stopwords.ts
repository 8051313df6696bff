/**
 * Words that carry no topic. The English list is the usual function-word list (articles,
 * pronouns, auxiliaries, prepositions, common adverbs); the academic list is the filler every
 * abstract uses whatever its field ("we show", "in this paper", "results", "propose"), which
 * otherwise tops every topic. Only words of 3+ letters matter: shorter ones are dropped anyway.
Plurals are listed too: stop words go before plural folding, so "properties" is not caught
by "property". Words like "model", "system" or "data" are not here: they name topics in
some fields, and the vocabulary's max-document-fraction cut removes the most common.
 */
const ENGLISH = `
about above across after afterwards again against all almost alone along already although
always among amongst and another any anyhow anyone anything anyway anywhere are around
because been before beforehand behind being below beside besides between beyond both but
can cannot could did does doing done down due during each either else elsewhere enough
etc even ever every everyone everything everywhere except few for former formerly from
further had has have having hence her here hereafter hereby herein hers herself him himself
his how however into its itself just last latter least less many may meanwhile might mine
more moreover most mostly much must myself namely neither never nevertheless next nobody
none nor not nothing now nowhere off often once one only onto other others otherwise our
ours ourselves out over own per perhaps please quite rather same seem seemed seeming seems
several she should since some somehow someone something sometime sometimes somewhere still
such than that the their theirs them themselves then thence there thereafter thereby
therefore therein thereupon these they this those though through throughout thus together
too toward towards under until upon very via was way were what whatever when whence
whenever where whereas whereby wherein whether which while who whoever whole whom whose
why will with within without would yet you your yours yourself yourselves
also any both can cannot get gets got let lets like make makes made use used uses using
well whereafter whereupon whither two three four five six seven eight nine ten zero first
second third one ones xxx non`;

const ACADEMIC = `
paper papers article letter work works present presents presented presenting report reports
reported show shows shown showed showing demonstrate demonstrates demonstrated find finds
found finding findings result results resulting obtain obtains obtained give gives given
provide provides provided study studies studied studying investigate investigates
investigated investigation consider considers considered considering discuss discusses
discussed discussion propose proposes proposed proposing introduce introduces introduced
describe describes described develop develops developed approach approaches method methods
new novel recent recently previous previously known based general generally particular
particularly various several certain main mainly different similar also well thus hence
analysis analyses analyze analyse analyzed analysed derive derives derived apply applies applied
application applications case cases example examples problem problems question questions
important interest interesting possible possibly respectively order terms term number
numbers large small high low higher lower larger smaller good better best simple
significant significantly main able include includes including related relation
furthermore addition additional moreover however indeed namely section conclude conclusion
allow allows allowed lead leads led suggest suggests suggested yield yields yielded
explain explained discuss argue argued prove proves proved proven establish established
obtain called respect first second third finally way ways aim aims goal goals
property properties effect effects type types value values form forms observe observed
single range ranges level levels strong standard associated corresponding compare compared
comparison consistent presence defined technique techniques framework frameworks behavior
behaviour existence component components factor factors dependence dependent long
parameter parameters
`;

export const STOP_WORDS: ReadonlySet<string> = new Set(
  (ENGLISH + " " + ACADEMIC).split(/\s+/).filter((w) => w.length > 0),
);
