import { FlowSpec, step, card, Parameter, JSONType, current, project, type Inputs } from "flowrun";

/**
 * Finds the topics of arXiv abstracts: fits an LDA topic model for each topic count asked
 * for, scores each by NPMI coherence on held-out abstracts, keeps the most coherent one and
 * reports its topics with the arXiv categories they come from.
 */
@project({ name: "kuebiko" })
export default class ArxivAbstractTopicModel extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run on the bundled 200-abstract sample" });
  dataPath = Parameter("data-path", { type: String, help: "arXiv JSON Lines file (.gz ok); default: the bundled 11,756 abstracts" });
  topicCountsSpec = Parameter("topic-counts", { type: JSONType, default: [5, 10, 20], help: "Topic counts to try: a JSON list such as [5,10,20], or one number" });
  iterations = Parameter("iterations", { default: 200, help: "Gibbs sampling sweeps per model" });
  seed = Parameter("seed", { default: 42, help: "Seed of the held-out split and of every sampler" });

  declare abstracts: import("./arxiv/load.js").ArxivRecord[];
  declare dropped: { withdrawn: number; duplicateId: number };
  declare topicCounts: number[];
  declare corpus: import("./arxiv/pipeline.js").Corpus;
  declare k: number;
  declare model: import("./arxiv/topic-model.js").TopicModel;
  declare scores: import("./arxiv/coherence.js").CoherenceScores;
  declare row: import("./arxiv/report.js").CoherenceRow;
  declare coherence: import("./arxiv/report.js").CoherenceRow[];
  declare topics: string[][];
  declare docTopics: number[][];
  declare topicCategories: import("./arxiv/report.js").CategoryShare[][];
  declare report: string;

  /** Load the abstracts (the bundled sample unless --data-path) and drop withdrawal notices. */
  @step
  async start() {
    const { loadAbstracts, cleanAbstracts } = await import("./arxiv/load.js");
    const { parseTopicCounts } = await import("./arxiv/pipeline.js");
    this.topicCounts = parseTopicCounts(this.topicCountsSpec);
    const records = await loadAbstracts({ path: this.dataPath || undefined, testMode: this.testMode });
    const { abstracts, dropped } = cleanAbstracts(records);
    this.abstracts = abstracts;
    this.dropped = dropped;
    console.log(`${abstracts.length} abstracts; dropped ${dropped.withdrawn} withdrawal notices, ${dropped.duplicateId} repeated ids`);
    this.next(this.tokenize);
  }

  /** Title + abstract -> document-term counts; hold out 20% of the abstracts to score coherence. */
  @step
  async tokenize() {
    const { prepareCorpus } = await import("./arxiv/pipeline.js");
    this.corpus = prepareCorpus(this.abstracts, { seed: this.seed });
    const { dtm, split } = this.corpus;
    console.log(`${dtm.nTerms} terms; ${split.train.length} training and ${split.heldOut.length} held-out abstracts`);
    this.next(this.fit, { foreach: "topicCounts" });
  }

  /** Fit one LDA model with k = this.input topics and score its coherence on held-out abstracts. */
  @step
  async fit() {
    const { fitAndScore } = await import("./arxiv/pipeline.js");
    this.k = Number(this.input);
    const { model, scores, row } = fitAndScore(this.corpus, { k: this.k, iterations: this.iterations, seed: this.seed, log: console.log });
    this.model = model;
    this.scores = scores;
    this.row = row;
    console.log(`k=${this.k}: NPMI ${row.npmi.toFixed(3)}, UMass ${row.umass.toFixed(3)}, fitted in ${row.seconds.toFixed(1)}s`);
    this.next(this.pick);
  }

  /** Keep the model whose topics are the most coherent on the held-out abstracts. */
  @step
  async pick(inputs: Inputs<ArxivAbstractTopicModel>) {
    const { pickBest } = await import("./arxiv/pipeline.js");
    this.coherence = inputs.map((input) => input.row);
    const best = pickBest(inputs); // reads only each input's `row`; loads one model
    this.k = best.k;
    this.model = best.model;
    this.scores = best.scores;
    this.mergeArtifacts(inputs, { include: ["abstracts", "dropped", "topicCounts", "corpus"] });
    this.next(this.end);
  }

  /** Store the chosen model's top words, a topic mixture per abstract and the report; print it, and card it. */
  @card({ type: "blank" })
  @step
  async end() {
    const { summariseModel } = await import("./arxiv/pipeline.js");
    const { topicCard } = await import("./arxiv/topic-card.js");
    const summary = summariseModel(this.abstracts, this.corpus, { model: this.model, scores: this.scores }, this.coherence);
    this.topics = summary.topics;
    this.docTopics = summary.docTopics;
    this.topicCategories = summary.topicCategories;
    this.report = summary.report;
    console.log(this.report);
    current.card.extend(topicCard({ abstracts: this.abstracts.length, chosenK: this.k, coherence: this.coherence, topics: this.topics, topicCategories: this.topicCategories }));
  }
}
