/* The page's fixed strings in the parents' languages (issue 12). Japanese is the page itself (the templates); these
 * replace it when the language switch is set to another language. Short and plain on purpose. Keys: see chat.js; err_<code> translates the server's error of that code
 * (the server's own message, in Japanese, is shown when there is none). */
window.KOSODATE_UI = {
  ja: {
    label: "質問を入力してください(500文字まで)", placeholder: "例:児童手当はいくら?", send: "送信",
    new_chat: "新しい相談", more: "くわしく", retry: "もう一度送る", writing: "回答を作成しています…",
    network: "通信できませんでした。インターネット接続を確認して、もう一度お試しください。",
    timeout: "回答に時間がかかりすぎています。少し待ってから、もう一度お試しください。",
    empty: "質問を入力してください。",
    privacy: "お願い:名前やマイナンバー、住所、電話番号は入力しないでください。入力された内容は、個人情報を伏せたうえで、サービス改善のために記録します。",
    helpful_q: "役に立ちましたか?", yes: "役に立った", no: "役に立たなかった", suggest: "続けて聞く:",
    apply: "オンラインで申請する", page: "区のページを見る", related: "関連するページを見る", call: "電話する",
    new_tab: "(新しいタブで開きます)", started: "新しい相談を始めました。"
  },
  en: {
    label: "Type your question (up to 500 characters)", placeholder: "e.g. How much is the child allowance?",
    send: "Send", new_chat: "New conversation", more: "More details", retry: "Send again",
    writing: "Writing the answer…",
    network: "Could not connect. Check your internet connection and try again.",
    timeout: "The answer is taking too long. Please wait a moment and try again.",
    empty: "Please type a question.",
    privacy: "Please do not type names, My Number, addresses or phone numbers. What you type is kept, with personal details hidden, to improve the service.",
    helpful_q: "Was this helpful?", yes: "Helpful", no: "Not helpful", suggest: "Ask next:",
    apply: "Apply online", page: "See the ward's page", related: "See the related page", call: "Call",
    new_tab: "(opens in a new tab)", started: "A new conversation has started.",
    err_rate_limited: "Too many questions in a short time. Please wait a little and try again.",
    err_message_too_long: "Please keep your question within 500 characters.",
    err_not_ready: "The service is getting ready. Please try again in a little while."
  },
  "zh-Hans": {
    label: "请输入您的问题(最多500字)", placeholder: "例:儿童津贴是多少?", send: "发送",
    new_chat: "新的咨询", more: "详细信息", retry: "重新发送", writing: "正在生成回答…",
    network: "无法连接。请检查网络后重试。", timeout: "回答时间过长。请稍后再试。", empty: "请输入问题。",
    privacy: "请不要输入姓名、个人编号(My Number)、地址或电话号码。输入内容会在隐去个人信息后记录,用于改进服务。",
    helpful_q: "这个回答有帮助吗?", yes: "有帮助", no: "没有帮助", suggest: "接着问:",
    apply: "在线申请", page: "查看区政府网页", related: "查看相关网页", call: "打电话",
    new_tab: "(在新标签页中打开)", started: "已开始新的咨询。",
    err_rate_limited: "短时间内提问过多。请稍等片刻后再试。",
    err_message_too_long: "问题请控制在500字以内。",
    err_not_ready: "服务正在准备中。请稍后再试。"
  },
  "zh-Hant": {
    label: "請輸入您的問題(最多500字)", placeholder: "例:兒童津貼是多少?", send: "傳送",
    new_chat: "新的諮詢", more: "詳細資訊", retry: "重新傳送", writing: "正在產生回答…",
    network: "無法連線。請檢查網路後再試一次。", timeout: "回答時間過長。請稍後再試。", empty: "請輸入問題。",
    privacy: "請勿輸入姓名、個人編號(My Number)、地址或電話號碼。輸入內容會在隱藏個人資料後記錄,用於改善服務。",
    helpful_q: "這個回答有幫助嗎?", yes: "有幫助", no: "沒有幫助", suggest: "接著問:",
    apply: "線上申請", page: "查看區公所網頁", related: "查看相關網頁", call: "打電話",
    new_tab: "(在新分頁開啟)", started: "已開始新的諮詢。",
    err_rate_limited: "短時間內提問過多。請稍候再試。",
    err_message_too_long: "問題請控制在500字以內。",
    err_not_ready: "服務正在準備中。請稍後再試。"
  },
  ko: {
    label: "질문을 입력하세요 (500자까지)", placeholder: "예: 아동수당은 얼마인가요?", send: "보내기",
    new_chat: "새 상담", more: "자세히", retry: "다시 보내기", writing: "답변을 작성하고 있습니다…",
    network: "연결할 수 없습니다. 인터넷 연결을 확인하고 다시 시도해 주세요.",
    timeout: "답변이 너무 오래 걸립니다. 잠시 후 다시 시도해 주세요.", empty: "질문을 입력해 주세요.",
    privacy: "이름, 마이넘버, 주소, 전화번호는 입력하지 마세요. 입력한 내용은 개인정보를 가린 뒤 서비스 개선을 위해 기록됩니다.",
    helpful_q: "도움이 되었나요?", yes: "도움이 됨", no: "도움이 안 됨", suggest: "이어서 묻기:",
    apply: "온라인으로 신청", page: "구청 페이지 보기", related: "관련 페이지 보기", call: "전화하기",
    new_tab: "(새 탭에서 열림)", started: "새 상담을 시작했습니다.",
    err_rate_limited: "짧은 시간에 질문이 너무 많았습니다. 잠시 후 다시 시도해 주세요.",
    err_message_too_long: "질문은 500자 이내로 입력해 주세요.",
    err_not_ready: "서비스를 준비하고 있습니다. 잠시 후 다시 시도해 주세요."
  },
  vi: {
    label: "Nhập câu hỏi (tối đa 500 ký tự)", placeholder: "Ví dụ: Trợ cấp nuôi con là bao nhiêu?", send: "Gửi",
    new_chat: "Cuộc trò chuyện mới", more: "Xem chi tiết", retry: "Gửi lại", writing: "Đang soạn câu trả lời…",
    network: "Không kết nối được. Hãy kiểm tra mạng và thử lại.",
    timeout: "Câu trả lời mất quá nhiều thời gian. Hãy đợi một chút rồi thử lại.", empty: "Hãy nhập câu hỏi.",
    privacy: "Xin đừng nhập tên, mã số My Number, địa chỉ hay số điện thoại. Nội dung bạn nhập được lưu lại sau khi che thông tin cá nhân, để cải thiện dịch vụ.",
    helpful_q: "Câu trả lời có hữu ích không?", yes: "Hữu ích", no: "Không hữu ích", suggest: "Hỏi tiếp:",
    apply: "Nộp đơn trực tuyến", page: "Xem trang của quận", related: "Xem trang liên quan", call: "Gọi điện",
    new_tab: "(mở trong thẻ mới)", started: "Đã bắt đầu cuộc trò chuyện mới.",
    err_rate_limited: "Bạn đã hỏi quá nhiều trong thời gian ngắn. Hãy đợi một chút rồi thử lại.",
    err_message_too_long: "Hãy viết câu hỏi trong vòng 500 ký tự.",
    err_not_ready: "Dịch vụ đang chuẩn bị. Hãy thử lại sau ít phút."
  },
  ne: {
    label: "आफ्नो प्रश्न लेख्नुहोस् (५०० अक्षरसम्म)", placeholder: "उदाहरण: बाल भत्ता कति हो?", send: "पठाउनुहोस्",
    new_chat: "नयाँ परामर्श", more: "थप विवरण", retry: "फेरि पठाउनुहोस्", writing: "उत्तर तयार हुँदैछ…",
    network: "जडान हुन सकेन। इन्टरनेट जडान जाँचेर फेरि प्रयास गर्नुहोस्।",
    timeout: "उत्तर आउन धेरै समय लाग्यो। केही बेर पर्खेर फेरि प्रयास गर्नुहोस्।", empty: "कृपया प्रश्न लेख्नुहोस्।",
    privacy: "नाम, माई नम्बर, ठेगाना वा फोन नम्बर नलेख्नुहोस्। तपाईंले लेखेको कुरा व्यक्तिगत जानकारी लुकाएर सेवा सुधारका लागि राखिन्छ।",
    helpful_q: "यो उत्तर उपयोगी भयो?", yes: "उपयोगी भयो", no: "उपयोगी भएन", suggest: "थप सोध्नुहोस्:",
    apply: "अनलाइन आवेदन दिनुहोस्", page: "वडाको पृष्ठ हेर्नुहोस्", related: "सम्बन्धित पृष्ठ हेर्नुहोस्",
    call: "फोन गर्नुहोस्", new_tab: "(नयाँ ट्याबमा खुल्छ)", started: "नयाँ परामर्श सुरु भयो।",
    err_rate_limited: "छोटो समयमा धेरै प्रश्न पठाइयो। केही बेर पर्खेर फेरि प्रयास गर्नुहोस्।",
    err_message_too_long: "प्रश्न ५०० अक्षरभित्र लेख्नुहोस्।",
    err_not_ready: "सेवा तयार हुँदैछ। केही बेरपछि फेरि प्रयास गर्नुहोस्।"
  },
  tl: {
    label: "Isulat ang iyong tanong (hanggang 500 titik)", placeholder: "Hal.: Magkano ang child allowance?",
    send: "Ipadala", new_chat: "Bagong usapan", more: "Higit pang detalye", retry: "Ipadala muli",
    writing: "Isinusulat ang sagot…",
    network: "Hindi makakonekta. Tingnan ang iyong internet at subukang muli.",
    timeout: "Masyadong matagal ang sagot. Maghintay sandali at subukang muli.", empty: "Pakisulat ang iyong tanong.",
    privacy: "Huwag isulat ang pangalan, My Number, address o numero ng telepono. Itinatala ang isinulat mo nang nakatago ang personal na impormasyon, para mapabuti ang serbisyo.",
    helpful_q: "Nakatulong ba ito?", yes: "Nakatulong", no: "Hindi nakatulong", suggest: "Itanong pa:",
    apply: "Mag-apply online", page: "Tingnan ang pahina ng ward", related: "Tingnan ang kaugnay na pahina",
    call: "Tumawag", new_tab: "(bubukas sa bagong tab)", started: "Nagsimula ang bagong usapan.",
    err_rate_limited: "Masyadong maraming tanong sa maikling oras. Maghintay sandali at subukang muli.",
    err_message_too_long: "Isulat ang tanong sa loob ng 500 titik.",
    err_not_ready: "Inihahanda pa ang serbisyo. Subukang muli mamaya."
  },
  pt: {
    label: "Escreva sua pergunta (até 500 caracteres)", placeholder: "Ex.: Qual é o valor do auxílio infantil?",
    send: "Enviar", new_chat: "Nova consulta", more: "Mais detalhes", retry: "Enviar de novo",
    writing: "Preparando a resposta…",
    network: "Não foi possível conectar. Verifique a internet e tente de novo.",
    timeout: "A resposta está demorando demais. Aguarde um pouco e tente de novo.", empty: "Escreva uma pergunta.",
    privacy: "Não escreva nomes, My Number, endereço nem telefone. O que você escreve é guardado sem os dados pessoais, para melhorar o serviço.",
    helpful_q: "Isto ajudou?", yes: "Ajudou", no: "Não ajudou", suggest: "Pergunte também:",
    apply: "Solicitar on-line", page: "Ver a página do distrito", related: "Ver a página relacionada", call: "Ligar",
    new_tab: "(abre em nova aba)", started: "Uma nova consulta começou.",
    err_rate_limited: "Muitas perguntas em pouco tempo. Aguarde um pouco e tente de novo.",
    err_message_too_long: "Escreva a pergunta com até 500 caracteres.",
    err_not_ready: "O serviço está se preparando. Tente de novo daqui a pouco."
  }
};
