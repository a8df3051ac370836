// UI strings in English and Chinese; `t(key)` picks the shopper's language (toggle in the header).
window.I18N = {
  en: {
    search: "Search", searchPlaceholder: "Search products…", home: "Home", cart: "Cart", user: "Shopper",
    forYou: "Recommended for you", trending: "Trending now", newArrivals: "New arrivals",
    results: "results for", didYouMean: "Did you mean", sort: "Sort", relevance: "Relevance", priceAsc: "Price: low to high",
    priceDesc: "Price: high to low", newest: "Newest", popularity: "Popularity", showWhy: "Show why", filters: "Filters",
    price: "Price", min: "Min", max: "Max", apply: "Apply", clear: "Clear", prev: "Previous", next: "Next", page: "Page",
    addToCart: "Add to cart", added: "Added", similar: "Similar products", complements: "Goes well with",
    fbt: "Frequently bought together", emptyCart: "Your cart is empty.", checkout: "Buy now", bought: "Thank you for your order!",
    cartRecs: "You may also need", sponsored: "Sponsored", chat: "Ask the assistant", send: "Send", chatPlaceholder: "Ask about a product…",
    noResults: "No results.", relatedNote: "Related products (not matches):", recovery: "Searched instead:", loading: "Loading…", notBuilt: "Not built yet — run `shopmind build`.", remove: "Remove",
    category: "Category", brand: "Brand", inStock: "In stock", outOfStock: "Out of stock", why: "Why", lang: "中文",
    attributes: "Details", anonymous: "Guest",
  },
  zh: {
    search: "搜索", searchPlaceholder: "搜索商品…", home: "首页", cart: "购物车", user: "顾客",
    forYou: "为你推荐", trending: "热门", newArrivals: "新品",
    results: "条结果：", didYouMean: "你是不是要找", sort: "排序", relevance: "相关度", priceAsc: "价格从低到高",
    priceDesc: "价格从高到低", newest: "最新", popularity: "人气", showWhy: "显示原因", filters: "筛选",
    price: "价格", min: "最低", max: "最高", apply: "应用", clear: "清除", prev: "上一页", next: "下一页", page: "页",
    addToCart: "加入购物车", added: "已加入", similar: "相似商品", complements: "搭配推荐",
    fbt: "经常一起购买", emptyCart: "购物车是空的。", checkout: "立即购买", bought: "感谢您的订单！",
    cartRecs: "你可能还需要", sponsored: "广告", chat: "咨询导购助手", send: "发送", chatPlaceholder: "问问商品的问题…",
    noResults: "没有结果。", relatedNote: "相关商品（并非匹配结果）：", recovery: "已改为搜索：", loading: "加载中…", notBuilt: "尚未构建——请运行 `shopmind build`。", remove: "移除",
    category: "类目", brand: "品牌", inStock: "有货", outOfStock: "缺货", why: "原因", lang: "English",
    attributes: "详情", anonymous: "访客",
  },
};
window.t = (key) => (window.I18N[localStorage.getItem("lang") || "en"] || window.I18N.en)[key] || key;
